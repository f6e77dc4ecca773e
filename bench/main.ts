/**
 * `npm run bench [-- --quick] [--only a,b]`: Printwire measured against its ceiling and its alternatives,
 * on this machine, side by side in one run. Each scenario prints a table and writes bench/results/<name>.json;
 * BENCHMARKS.md shows the latest figures. `--quick` is a smoke run (tiny numbers, nothing written).
 */
import { Command } from 'commander'
import { renderBenchmarksDoc } from './harness/benchmarksDoc.ts'
import { Cleanup } from './harness/parts.ts'
import { report } from './harness/report.ts'
import type { Scenario } from './harness/scenario.ts'
import { bigJob } from './scenarios/bigJob.ts'
import { fgl } from './scenarios/fgl.ts'
import { http } from './scenarios/http.ts'
import { latency } from './scenarios/latency.ts'
import { mosquitto } from './scenarios/mosquitto.ts'
import { persistence } from './scenarios/persistence.ts'
import { scale } from './scenarios/scale.ts'
import { throughput } from './scenarios/throughput.ts'

const SCENARIOS: Scenario[] = [throughput, latency, http, bigJob, mosquitto, persistence, scale, fgl]

const program = new Command('bench')
  .option('--quick', 'a smoke run: tiny numbers, results not written')
  .option('--only <names>', `comma-separated scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`)
  .parse(process.argv)
const options = program.opts<{ quick?: boolean, only?: string }>()
const wanted = options.only?.split(',').map((s) => s.trim()).filter((s) => s !== '')
const unknown = wanted?.filter((name) => !SCENARIOS.some((s) => s.name === name)) ?? []
if (unknown.length > 0) {
  process.stderr.write(`bench: no scenario ${unknown.join(', ')}; there are ${SCENARIOS.map((s) => s.name).join(', ')}\n`)
  process.exit(2)
}

const quick = options.quick === true
let failed = false
for (const scenario of SCENARIOS.filter((s) => wanted === undefined || wanted.includes(s.name))) {
  const cleanup = new Cleanup()
  const started = Date.now()
  try {
    const result = await scenario.run({ quick, cleanup, progress: (line) => process.stderr.write(`  ${line}\n`) })
    result.notes.push(`Measured in ${Math.round((Date.now() - started) / 1000)} s.`)
    await report(result, quick)
  } catch (error) {
    failed = true
    process.stderr.write(`bench: scenario ${scenario.name} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  } finally {
    await cleanup.closeAll()
  }
}
if (!quick && await renderBenchmarksDoc()) process.stdout.write('\nBENCHMARKS.md updated from bench/results/.\n')
process.exit(failed ? 1 : 0)
