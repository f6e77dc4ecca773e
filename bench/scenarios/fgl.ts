/**
 * The FGL preview (fgl/): how long a job takes to become SVG (tokenize, lay out, encode barcodes and QR codes,
 * write SVG) and PNG (resvg), for a typical ticket and for a 1 MiB graphics job; against, in the same run, the
 * relay's own pass over the same bytes (boca/fgl.ts counting its tickets), the least any reading of the job costs.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { countTickets } from '../../boca/fgl.ts'
import { renderJob } from '../../fgl/index.ts'
import { svgToPng } from '../../fgl/png.ts'
import { ROOT } from '../../harness/processes.ts'
import { graphicsJob } from '../harness/mqttLoad.ts'
import type { Scenario } from '../harness/scenario.ts'
import { nowMs, ratio, summarize, type Row } from '../harness/stats.ts'

const MIB = 1024 * 1024

/** `runs` timings of `work` in ms, after `runs / 10` (at least 2) unmeasured ones. */
function time (runs: number, work: () => unknown): number[] {
  for (let i = 0; i < Math.max(2, Math.ceil(runs / 10)); i++) work()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = nowMs()
    work()
    times.push(nowMs() - started)
  }
  return times
}

export const fgl: Scenario = {
  name: 'fgl',
  async run (ctx) {
    const jobs: Array<{ label: string, data: Uint8Array, runs: number }> = [
      { label: 'typical ticket (concert, QR code; 482 bytes)', data: await readFile(path.join(ROOT, 'examples', 'tickets', 'concert-qr.fgl')), runs: ctx.quick ? 3 : 300 },
      { label: '1 MiB graphics job', data: graphicsJob(MIB - 32), runs: ctx.quick ? 2 : 30 }
    ]
    const rows: Row[] = []
    for (const job of jobs) {
      ctx.progress(`fgl: ${job.label}`)
      const rendered = renderJob(job.data)
      const scan = summarize(time(job.runs, () => countTickets(job.data)))
      const svg = summarize(time(job.runs, () => renderJob(job.data)))
      const png = summarize(time(job.runs, () => { for (const s of renderJob(job.data).svgs) svgToPng(s) }))
      const row = (step: string, s: typeof scan): Row => ({ job: job.label, step, runs: s.count, 'p50 ms': s.p50, 'p99 ms': s.p99, 'max ms': s.max, 'p50 / scan': ratio(s.p50, scan.p50) })
      rows.push(row('scan (boca/fgl.ts: count tickets)', scan), row('FGL → SVG', svg), row('FGL → SVG → PNG', png))
      ctx.progress(`fgl: ${job.label}: ${rendered.tickets.length} ticket(s), SVG ${Math.round((rendered.svgs[0]?.length ?? 0) / 1024)} KiB`)
    }
    return {
      name: 'fgl',
      title: 'FGL preview: render time',
      rows,
      notes: [
        'One process, one job at a time, nothing else running in it; each step measured on its own, after a warm-up.',
        'scan: boca/fgl.ts counting the job\'s tickets (what the relay does to every job), the baseline; FGL → SVG: fgl/index.ts renderJob (tokenize, lay out, encode barcodes and QR codes with bwip-js, write SVG); FGL → SVG → PNG: the same, then resvg rasterizes with the bundled fonts.',
        'The 1 MiB job is one <G1048544> block (every byte value), as in "big-job": the SVG draws only the 1050 columns that lie on a 2" × 5.5" ticket at 200 dpi. Target from issue 13: a typical ticket in well under 50 ms.'
      ]
    }
  }
}
