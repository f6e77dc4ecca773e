/**
 * Which way imports go (README, "Architecture"): each top-level folder of the product imports only the folders
 * named for it in the table, the browser page only the protocol, and no module imports itself back through
 * others, not even for a type (a cycle of types still ties the files into one). `npm run web`'s entry reaches
 * none of the broker's stores (ioredis, LevelDB, Aedes), which it does not use. Read from the sources' import
 * statements, followed file by file.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const WEB_SERVER_ENTRY = 'web/server/main.ts'

/** Folder (or sub-folder) → the product folders its files may import, besides its own. Longest match wins. */
const MAY_IMPORT: Record<string, string[]> = {
  protocol: [],
  /** The client library (printwire/client): browser-safe, the protocol and the `mqtt` package only. */
  client: ['protocol'],
  boca: ['protocol'],
  /** The FGL renderer and linter: browser-safe (no node: imports) except fgl/png.ts, which only Node callers import. */
  fgl: ['protocol', 'boca'],
  runtime: ['protocol'],
  access: ['protocol', 'runtime'],
  relay: ['protocol', 'runtime', 'boca', 'fgl'],
  'printer-sim': ['protocol', 'runtime', 'boca', 'fgl'],
  'web/page': ['protocol', 'client', 'fgl'],
  /** The dashboard: browser-only like the page, whose connection and log-in it shares. */
  'web/dashboard': ['protocol', 'client', 'web/page'],
  web: ['protocol', 'runtime', 'access', 'client'],
  broker: ['protocol', 'runtime', 'access', 'web'],
  cli: ['protocol', 'runtime', 'access', 'boca', 'fgl', 'relay', 'broker', 'web', 'printer-sim', 'client'],
  /** Real parts for tests, benchmarks and the soak: any product folder, never test/, bench/ or soak/. */
  harness: ['protocol', 'runtime', 'access', 'boca', 'fgl', 'relay', 'broker', 'web', 'printer-sim', 'cli', 'client']
}
const PRODUCT = Object.keys(MAY_IMPORT).filter((folder) => !folder.includes('/'))

/**
 * Packages the broker's stores are made of: none may load in the web server's process. (LevelDB does, for the web
 * server's own job history in Mosquitto mode: web/server/jobHistoryClient.ts.)
 */
const STORE_PACKAGES = ['ioredis', 'aedes', 'aedes-persistence-level', 'aedes-persistence-redis', 'mqemitter-redis', 'msgpack-lite', 'qlobber']

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

function ruleFor (file: string): string | undefined {
  const folders = Object.keys(MAY_IMPORT).filter((folder) => file.startsWith(`${folder}/`))
  return folders.sort((a, b) => b.length - a.length)[0]
}

function topFolder (file: string): string {
  return file.split('/')[0] as string
}

const files = PRODUCT.flatMap((folder) => tsFilesUnder(folder))

/** The product files `file` imports. */
function productImportsOf (file: string): string[] {
  return importsOf(file).flatMap((target) => 'file' in target ? [target.file] : [])
}

describe('import directions', () => {
  it('reads the product folders', () => {
    expect(files.length).toBeGreaterThan(50)
  })

  it('each folder imports only the folders it may', () => {
    const wrong: string[] = []
    for (const file of files) {
      const rule = ruleFor(file) as string
      const allowed = new Set([...(MAY_IMPORT[rule] ?? []), rule])
      for (const target of productImportsOf(file)) {
        if (!allowed.has(ruleFor(target) ?? topFolder(target))) wrong.push(`${file} imports ${target}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('has no import cycle, type imports included', () => {
    const graph = new Map<string, string[]>()
    for (const file of files) graph.set(file, productImportsOf(file))
    const cycles: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(' → '))
        return
      }
      state.set(file, 'open')
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file])
      state.set(file, 'done')
    }
    for (const file of graph.keys()) visit(file, [])
    expect(cycles).toEqual([])
  })
})

describe('imports of the client library', () => {
  it('reaches only browser-safe protocol modules and the mqtt package: it runs in browsers and in plain node', () => {
    const { files, packages } = importGraph('client/index.ts')
    expect([...files].filter((file) => !file.startsWith('client/') && !file.startsWith('protocol/'))).toEqual([])
    expect([...packages]).toEqual(['mqtt'])
    // protocol/index.ts re-exports the job parser (zod, Buffer): the client imports the modules it needs one by one.
    expect(files).not.toContain('protocol/index.ts')
    expect(files).not.toContain('protocol/jobParser.ts')
  })
})

describe('imports of `npm run web`', () => {
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

  it('keeps the broker\'s stores out of `npm run web`: its entry reaches no broker module, and none of their packages', () => {
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
    // `npm run web` is `printwire web` (cli/partCommands.ts), which loads web/server/runWebServer.ts when it runs, as
    // web/server/main.ts does; no module of the command line imports the broker but when its command runs.
    expect(scripts.web).toBe('node bin/printwire.js web')
    for (const file of tsFilesUnder('cli')) {
      expect(readFileSync(path.join(ROOT, file), 'utf8'), file).not.toMatch(/^\s*(?:import|export)\s[^'"]*?\sfrom\s*['"]\.\.\/broker\//m)
    }
    expect(readFileSync(path.join(ROOT, 'cli', 'partCommands.ts'), 'utf8')).toContain("await import('../web/server/runWebServer.ts')")
    expect(readFileSync(path.join(ROOT, WEB_SERVER_ENTRY), 'utf8')).toContain("from './runWebServer.ts'")
    const { files, packages } = importGraph('web/server/runWebServer.ts')
    expect(files).toContain('web/server/webServer.ts')
    expect(files).toContain('web/server/pageApp.ts')
    expect([...files].filter((file) => file.startsWith('broker/'))).toEqual([])
    expect(STORE_PACKAGES.filter((pkg) => packages.has(pkg))).toEqual([])
    // The graph is followed into what is shared: express and mqtt.js are reached through the page server and the clock.
    expect(packages).toContain('express')
    expect(packages).toContain('mqtt')
    // Its own job history (Mosquitto mode).
    expect(packages).toContain('level')
  })
})

describe('imports of the FGL renderer', () => {
  it('is browser-safe: fgl/index.ts reaches no node: module, no Buffer, and not fgl/png.ts (resvg, Node only)', () => {
    const { files, packages } = importGraph('fgl/index.ts')
    expect(files).toContain('fgl/svg.ts')
    expect(files).not.toContain('fgl/png.ts')
    const builtins = [...files].flatMap((file) => importsOf(file).flatMap((target) => 'builtin' in target ? [`${file}: ${target.builtin}`] : []))
    expect(builtins).toEqual([])
    expect([...packages]).toEqual(['bwip-js'])
    const ownFiles = [...files].filter((file) => file.startsWith('fgl/'))
    expect(ownFiles.filter((file) => /\bBuffer\b/.test(readFileSync(path.join(ROOT, file), 'utf8')))).toEqual([])
  })
})
