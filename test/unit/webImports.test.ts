/**
 * Which way imports go for web/ (issue 11 item 2): nothing under web/ imports broker/ (the broker mounts the
 * page server, never the other way), and `npm run web`'s entry reaches none of the broker's stores (ioredis,
 * LevelDB, Aedes), which it does not use. Read from the sources' import statements, followed file by file.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const WEB_SERVER_ENTRY = 'web/server/main.ts'

/**
 * The one import of broker/ left under web/, until `checkTlsPair` moves out of broker/config.ts (issue 11 item
 * 4, done in another branch): it loads only zod, protocol/ and runtime/. Remove it then; the test fails while
 * it is listed and no longer imported, so it cannot be forgotten.
 */
const ALLOWED_BROKER_IMPORTS = new Set(['web/server/config.ts -> broker/config.ts'])

/** Packages the broker's stores are made of: none may load in the web server's process. */
const STORE_PACKAGES = ['ioredis', 'level', 'classic-level', 'abstract-level', 'aedes', 'aedes-persistence-level', 'aedes-persistence-redis', 'mqemitter-redis', 'msgpack-lite', 'qlobber']

/** The module specifiers of every import, export-from and import() in TypeScript source. */
function importSpecifiers (source: string): string[] {
  const found: string[] = []
  const patterns = [
    /^\s*(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g
  ]
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) if (match[1] !== undefined) found.push(match[1])
  }
  return found
}

function tsFilesUnder (dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.posix.join(dir, name.split(path.sep).join('/')))
}

/** `from` (repo-relative) importing `specifier`: the repo-relative file, or the package name of a bare one. */
function resolveImport (from: string, specifier: string): { file: string } | { pkg: string } | { builtin: string } {
  if (specifier.startsWith('node:')) return { builtin: specifier }
  if (specifier.startsWith('.')) return { file: path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier)) }
  const parts = specifier.split('/')
  return { pkg: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] ?? specifier }
}

function importsOf (file: string): Array<ReturnType<typeof resolveImport>> {
  return importSpecifiers(readFileSync(path.join(ROOT, file), 'utf8')).map((specifier) => resolveImport(file, specifier))
}

/** Every source file and package reachable from `entry` through imports. */
function importGraph (entry: string): { files: Set<string>, packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const pending = [entry]
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (files.has(file)) continue
    files.add(file)
    for (const target of importsOf(file)) {
      if ('file' in target) pending.push(target.file)
      else if ('pkg' in target) packages.add(target.pkg)
    }
  }
  return { files, packages }
}

describe('imports of web/', () => {
  it('reads every kind of import statement', () => {
    const source = [
      "import { a } from '../x.ts'",
      "import type { B } from './b.ts'",
      "export * from './c.ts'",
      "import 'side-effect'",
      'const d = await import("./d.ts")',
      "import {\n  e,\n  f\n} from '@scope/pkg/sub'"
    ].join('\n')
    expect(importSpecifiers(source).sort()).toEqual(['../x.ts', './b.ts', './c.ts', './d.ts', '@scope/pkg/sub', 'side-effect'].sort())
  })

  it('has no file under web/ importing broker/', () => {
    const brokerImports: string[] = []
    for (const file of tsFilesUnder('web')) {
      for (const target of importsOf(file)) {
        if ('file' in target && target.file.startsWith('broker/')) brokerImports.push(`${file} -> ${target.file}`)
      }
    }
    expect(tsFilesUnder('web').length).toBeGreaterThan(10)
    expect(brokerImports.filter((edge) => !ALLOWED_BROKER_IMPORTS.has(edge))).toEqual([])
    // An allowance no longer needed must go.
    expect([...ALLOWED_BROKER_IMPORTS].filter((edge) => !brokerImports.includes(edge))).toEqual([])
  })

  it('keeps the broker\'s stores out of `npm run web`: its entry reaches no broker module but its config, and none of their packages', () => {
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
    expect(scripts.web).toBe(`tsx ${WEB_SERVER_ENTRY}`)
    const { files, packages } = importGraph(WEB_SERVER_ENTRY)
    expect(files).toContain('web/server/webServer.ts')
    expect(files).toContain('web/server/pageApp.ts')
    expect([...files].filter((file) => file.startsWith('broker/') && file !== 'broker/config.ts')).toEqual([])
    expect(STORE_PACKAGES.filter((pkg) => packages.has(pkg))).toEqual([])
    // The graph is followed into what is shared: express and mqtt.js are reached through the page server and the clock.
    expect(packages).toContain('express')
    expect(packages).toContain('mqtt')
  })
})
