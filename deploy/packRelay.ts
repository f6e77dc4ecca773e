/**
 * `npm run pack:relay`: the relay as one npm package for a venue box with no git and no internet, written to
 * dist/printwire-relay-<version>.tgz. esbuild bundles cli/relayOnly.ts (`printwire relay`) with every
 * JavaScript dependency the relay uses into one ES module (no tsx, no esbuild at run time). The one native module,
 * LevelDB for the spool (`level` → `classic-level`), ships beside it in node_modules as a bundled dependency,
 * with classic-level's prebuilt binaries for Linux x64, arm64 and armv7, macOS and Windows: nothing is compiled
 * or downloaded on the box. Beside it: the systemd unit and an example config file.
 * Install: `npm install --global --offline ./printwire-relay-<version>.tgz` (or unpack it anywhere) and run
 * `printwire relay --config /etc/printwire/relay.json`. Prints the tarball's path and size.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { version, license, engines } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string, license: string, engines: Record<string, string> }

/** Left out of the bundle and shipped as packages: LevelDB's native binding, found by node-gyp-build at run time. */
const SHIPPED_PACKAGES = ['level']

interface PackageJson { version: string, dependencies?: Record<string, string>, scripts?: Record<string, string> }

function readPackage (dir: string): PackageJson {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson
}

/**
 * Copies `names` and every package they depend on from the repo's node_modules into `target`, as npm laid them
 * out there (nested copies come along inside their parent). A native package's build recipe goes: its `install`
 * script (node-gyp-build: use a prebuilt binary, else compile), its binding.gyp (without an install script, npm
 * would run `node-gyp rebuild` for it: minutes of compiling, or a failure on a box without a compiler) and the
 * C++ sources. Its prebuilt binaries stay, and node-gyp-build loads them at run time; an install of the tarball
 * thus runs no script at all.
 */
function copyPackages (names: string[], target: string): string[] {
  const copied: string[] = []
  const pending = [...names]
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (copied.includes(name)) continue
    copied.push(name)
    const from = path.join(ROOT, 'node_modules', name)
    const to = path.join(target, name)
    cpSync(from, to, { recursive: true })
    const manifest = readPackage(from)
    if (existsSync(path.join(to, 'binding.gyp'))) {
      if (!existsSync(path.join(to, 'prebuilds'))) throw new Error(`${name} is native and has no prebuilt binaries: it cannot be shipped without a compiler`)
      const { install: _install, ...scripts } = manifest.scripts ?? {}
      writeFileSync(path.join(to, 'package.json'), JSON.stringify({ ...JSON.parse(readFileSync(path.join(from, 'package.json'), 'utf8')) as object, scripts, gypfile: false }, null, 2) + '\n')
      for (const recipe of ['binding.gyp', 'binding.cc', 'deps', 'build']) rmSync(path.join(to, recipe), { recursive: true, force: true })
    }
    pending.push(...Object.keys(manifest.dependencies ?? {}))
  }
  return copied
}

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
      external: ['bufferutil', 'utf-8-validate', ...SHIPPED_PACKAGES],
      // CommonJS dependencies call require() for Node's modules: give the ES module one.
      banner: { js: '#!/usr/bin/env node\nimport { createRequire as __printwireCreateRequire } from \'node:module\'\nconst require = __printwireCreateRequire(import.meta.url)' },
      legalComments: 'eof',
      logLevel: 'warning'
    })
    const shipped = copyPackages(SHIPPED_PACKAGES, path.join(packageDir, 'node_modules'))
    writeFileSync(path.join(packageDir, 'package.json'), JSON.stringify({
      name: 'printwire-relay',
      version,
      description: 'The Printwire relay (printwire relay), with its dependencies bundled: no install scripts, no network.',
      license,
      type: 'module',
      engines,
      bin: { printwire: 'printwire-relay.mjs' },
      dependencies: Object.fromEntries(SHIPPED_PACKAGES.map((name) => [name, readPackage(path.join(ROOT, 'node_modules', name)).version])),
      bundleDependencies: shipped.sort()
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
