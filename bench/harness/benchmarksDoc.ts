/**
 * Keeps BENCHMARKS.md's tables equal to the latest results: each `<!-- results:NAME -->` … `<!-- /results -->`
 * block is rewritten from bench/results/NAME.json (its table, its notes, when and where it was measured).
 * The prose around the blocks is written by people, from those figures.
 */
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { RESULTS_DIR } from './report.ts'
import { markdownTable, type Row } from './stats.ts'

export const BENCHMARKS_FILE = path.resolve(RESULTS_DIR, '..', '..', 'BENCHMARKS.md')

interface Stored { rows: Row[], notes: string[], at: string, machine: Record<string, string | number> }

async function block (name: string): Promise<string> {
  let stored: Stored
  try {
    stored = JSON.parse(await readFile(path.join(RESULTS_DIR, `${name}.json`), 'utf8')) as Stored
  } catch {
    return `(no results yet: \`npm run bench -- --only ${name}\`)`
  }
  const m = stored.machine
  const notes = stored.notes.map((note) => `- ${note}`).join('\n')
  return `${markdownTable(stored.rows)}\n\n${notes}\n- Measured ${stored.at.slice(0, 16).replace('T', ' ')} UTC on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}.`
}

export async function renderBenchmarksDoc (): Promise<boolean> {
  let text: string
  try {
    text = await readFile(BENCHMARKS_FILE, 'utf8')
  } catch {
    return false
  }
  const pattern = /<!-- results:([a-z-]+) -->[\s\S]*?<!-- \/results -->/g
  const names = [...text.matchAll(pattern)].map((m) => m[1] as string)
  for (const name of names) {
    const rendered = await block(name)
    text = text.replace(new RegExp(`<!-- results:${name} -->[\\s\\S]*?<!-- /results -->`), () => `<!-- results:${name} -->\n${rendered}\n<!-- /results -->`)
  }
  await writeFile(BENCHMARKS_FILE, text)
  return true
}
