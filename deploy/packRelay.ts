/**
 * `npm run pack:relay`: the relay as one npm package for a venue box with no git and no internet, written to
 * dist/printwire-relay-<version>.tgz. esbuild bundles cli/relayOnly.ts (`printwire relay`) with every
 * dependency the relay uses into one ES module: plain JavaScript, no node_modules, no tsx, no native module, so
 * the same file runs on x64 and ARM with Node 20 or later. Beside it: the systemd unit and an example config file.
 * Install: `npm install --global --offline ./printwire-relay-<version>.tgz` (or unpack it anywhere) and run
 * `printwire relay --config /etc/printwire/relay.json`. Prints the tarball's path and size.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { version, license, engines } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string, license: string, engines: Record<string, string> }

/** Builds the package in `outDir` (default dist/); returns the tarball's path. */
export async function packRelay (outDir = path.join(ROOT, 'dist')): Promise<string> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'printwire-pack-relay-'))
  try {
    const packageDir = path.join(work, 'package')
    mkdirSync(packageDir)
    await build({
      entryPoints: [path.join(ROOT, 'cli', 'relayOnly.ts')],
      outfile: path.join(packageDir, 'printwire-relay.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      define: { PRINTWIRE_VERSION: JSON.stringify(version) },
      // ws loads these optional speed-ups inside a try: without them it uses its JavaScript code.
      external: ['bufferutil', 'utf-8-validate'],
      // CommonJS dependencies call require() for Node's modules: give the ES module one.
      banner: { js: '#!/usr/bin/env node\nimport { createRequire as __printwireCreateRequire } from \'node:module\'\nconst require = __printwireCreateRequire(import.meta.url)' },
      legalComments: 'eof',
      logLevel: 'warning'
    })
    writeFileSync(path.join(packageDir, 'package.json'), JSON.stringify({
      name: 'printwire-relay',
      version,
      description: 'The Printwire relay (printwire relay), bundled with its dependencies: no install scripts, no network.',
      license,
      type: 'module',
      engines,
      bin: { printwire: 'printwire-relay.mjs' }
    }, null, 2) + '\n')
    copyFileSync(path.join(ROOT, 'deploy', 'printwire-relay.service'), path.join(packageDir, 'printwire-relay.service'))
    copyFileSync(path.join(ROOT, 'deploy', 'relay.example.json'), path.join(packageDir, 'relay.example.json'))
    mkdirSync(outDir, { recursive: true })
    const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--offline', '--pack-destination', outDir], { cwd: packageDir, encoding: 'utf8', env: { ...process.env, NPM_CONFIG_UPDATE_NOTIFIER: 'false' } })
    const [packed] = JSON.parse(out) as Array<{ filename: string }>
    if (packed === undefined) throw new Error('npm pack reported no tarball')
    return path.join(outDir, packed.filename)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const tarball = await packRelay()
  process.stdout.write(`${path.relative(process.cwd(), tarball)}: ${(statSync(tarball).size / 1024).toFixed(0)} KiB\n`)
}
