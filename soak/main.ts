/**
 * `npm run soak`: the fault scenario with big numbers, for both broker persistences. Prints a table and
 * writes soak/results/<time>.json. Exits 1 if any run lost, duplicated or left unanswered a job.
 *   npm run soak -- --jobs 2000 --kills 10 --restarts 3 --broker-kills 4
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { runFaultScenario, type FaultScenarioReport } from '../harness/faultScenario.ts'

const program = new Command('soak')
  .option('--jobs <n>', 'jobs per run', '1000')
  .option('--every <ms>', 'milliseconds between two jobs', '10')
  .option('--kills <n>', 'relay SIGKILLs per run', '8')
  .option('--restarts <n>', 'broker restarts (SIGTERM) per run', '3')
  .option('--broker-kills <n>', 'broker SIGKILLs (then restarts) per run', '4')
  .option('--drops <n>', 'printer connection drops per run', '5')
  .option('--paper-outs <n>', 'paper outs per run', '5')
  .option('--persistence <list>', 'broker persistences to run, comma-separated', 'level,redis')
  .option('--log-dir <dir>', 'write every broker and relay process\'s log there (one folder per persistence)')
  .parse()
const flags = program.opts<Record<string, string>>()
const number = (name: string): number => {
  const value = Number(flags[name])
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`)
  return value
}

const reports: FaultScenarioReport[] = []
for (const persistence of String(flags.persistence).split(',') as Array<'level' | 'redis'>) {
  process.stderr.write(`soak: ${persistence}...\n`)
  reports.push(await runFaultScenario({
    persistence,
    jobs: number('jobs'),
    publishEveryMs: number('every'),
    relayKills: number('kills'),
    brokerRestarts: number('restarts'),
    brokerKills: number('brokerKills'),
    connectionDrops: number('drops'),
    paperOuts: number('paperOuts'),
    settleMs: 120_000,
    ...(flags.logDir === undefined ? {} : { logDir: path.join(String(flags.logDir), persistence) }),
    progress: (line) => process.stderr.write(`  ${new Date().toISOString().slice(11, 23)} ${line}\n`)
  }))
}

const rows = reports.map((r) => ({
  persistence: r.options.persistence,
  jobs: r.jobs,
  'relay kills': r.relayKills,
  'broker restarts': r.brokerRestarts,
  'broker kills': r.brokerKills,
  drops: r.connectionDrops,
  'paper outs': r.paperOuts,
  'printed once': r.printedOnce,
  duplicates: r.duplicates.length,
  UNCERTAIN: r.uncertain.length,
  'result, then UNCERTAIN': r.contradicted.length,
  lost: r.lost.length,
  unanswered: r.unanswered.length,
  'other errors': Object.values(r.otherErrors).reduce((a, b) => a + b, 0),
  seconds: Math.round(r.durationMs / 100) / 10,
  ok: r.ok
}))
console.table(rows)
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results')
await mkdir(dir, { recursive: true })
const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
await writeFile(file, JSON.stringify({ at: new Date().toISOString(), reports }, null, 2))
console.log(`written: ${path.relative(process.cwd(), file)}`)
process.exitCode = reports.every((r) => r.ok) ? 0 : 1
