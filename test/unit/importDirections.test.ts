/**
 * Which way imports go (README, "Architecture"): each top-level folder of the product imports only the folders
 * named for it in the table, the browser page only the protocol, and no module imports itself back through
 * others, not even for a type (a cycle of types still ties the files into one).
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Folder (or sub-folder) → the product folders its files may import, besides its own. Longest match wins. */
const MAY_IMPORT: Record<string, string[]> = {
  protocol: [],
  boca: ['protocol'],
  runtime: ['protocol'],
  access: ['protocol', 'runtime'],
  relay: ['protocol', 'runtime', 'boca'],
  'printer-sim': ['protocol', 'runtime', 'boca'],
  'web/page': ['protocol'],
  web: ['protocol', 'runtime', 'access'],
  broker: ['protocol', 'runtime', 'access', 'web'],
  cli: ['protocol', 'runtime', 'access', 'boca', 'relay', 'broker', 'web', 'printer-sim']
}
const PRODUCT = Object.keys(MAY_IMPORT).filter((folder) => !folder.includes('/'))

function sourceFiles (dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const relative = path.join(dir, entry.name)
    if (entry.isDirectory()) found.push(...sourceFiles(relative))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(relative)
  }
  return found
}

interface Import { target: string }

/** The product files a file imports (relative specifiers), resolved to paths from the root. */
function importsOf (file: string): Import[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8')
  const found: Import[] = []
  for (const match of text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)) {
    found.push({ target: path.normalize(path.join(path.dirname(file), match[1] as string)) })
  }
  return found
}

function ruleFor (file: string): string | undefined {
  const folders = Object.keys(MAY_IMPORT).filter((folder) => file.startsWith(`${folder}/`))
  return folders.sort((a, b) => b.length - a.length)[0]
}

function topFolder (file: string): string {
  return file.split('/')[0] as string
}

const files = PRODUCT.flatMap((folder) => {
  try {
    return sourceFiles(folder)
  } catch {
    return []
  }
})

describe('import directions', () => {
  it('reads the product folders', () => {
    expect(files.length).toBeGreaterThan(50)
  })

  it('each folder imports only the folders it may', () => {
    const wrong: string[] = []
    for (const file of files) {
      const rule = ruleFor(file) as string
      const allowed = new Set([...(MAY_IMPORT[rule] ?? []), rule])
      for (const { target } of importsOf(file)) {
        if (!allowed.has(ruleFor(target) ?? topFolder(target))) wrong.push(`${file} imports ${target}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('has no import cycle, type imports included', () => {
    const graph = new Map<string, string[]>()
    for (const file of files) graph.set(file, importsOf(file).map((i) => i.target))
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
