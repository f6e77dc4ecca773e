/** Each scenario's result: a table on stdout and `bench/results/<name>.json`, with the machine it ran on. */
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { markdownTable, type Row } from './stats.ts'

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results')

export interface ScenarioResult {
  name: string
  title: string
  rows: Row[]
  /** What a reader needs to read the rows right: settings, what the baseline is, what fell short. */
  notes: string[]
}

export function machine (): Record<string, string | number> {
  const cpu = os.cpus()[0]
  return {
    cpus: os.cpus().length,
    cpuModel: cpu?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`
  }
}

export async function report (result: ScenarioResult, quick: boolean): Promise<void> {
  process.stdout.write(`\n## ${result.title}\n\n${markdownTable(result.rows)}\n`)
  for (const note of result.notes) process.stdout.write(`- ${note}\n`)
  if (quick) return // a smoke run's figures are not results
  await mkdir(RESULTS_DIR, { recursive: true })
  const file = path.join(RESULTS_DIR, `${result.name}.json`)
  await writeFile(file, JSON.stringify({ ...result, at: new Date().toISOString(), machine: machine() }, null, 2) + '\n')
  process.stdout.write(`(written to ${path.relative(process.cwd(), file)})\n`)
}
