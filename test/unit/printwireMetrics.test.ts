/** The metrics' bookkeeping (runtime/printwireMetrics.ts), fed messages as the job history reads them. */
import { describe, expect, it } from 'vitest'
import { readExposition, type Scrape } from '../../harness/metrics.ts'
import { sampleValue } from '../../harness/metrics.ts'
import type { JobEvent } from '../../protocol/jobHistory.ts'
import type { SeenJobMessage } from '../../runtime/jobHistory/jobHistoryRecorder.ts'
import { OTHER_PRINTERS, PrintwireMetrics } from '../../runtime/printwireMetrics.ts'

async function read (metrics: PrintwireMetrics): Promise<Scrape> {
  const { text } = await metrics.scrape()
  return { status: 200, headers: new Headers(), text, ...readExposition(text) }
}

const published = (printerId: string, jobId: string | undefined, seenAt: number): SeenJobMessage => ({
  kind: 'jobs',
  printerId,
  seenAt,
  event: jobId === undefined ? undefined : { kind: 'published', jobId, printerId, publisher: { user: null }, seenAt }
})

const printed = (printerId: string, jobId: string, seenAt: number): SeenJobMessage => ({
  kind: 'responses',
  printerId,
  seenAt,
  event: { kind: 'result', result: { jobId, printerId, status: 'printed', bytes: 10, durationMs: 5, printer: { acks: 1, expectedAcks: 1, statusBytes: [], condition: 'ticket-ack' }, at: '' }, seenAt }
})

const failed = (printerId: string, jobId: string, code: string, retryable: boolean, seenAt: number): SeenJobMessage => ({
  kind: 'errors',
  printerId,
  seenAt,
  event: { kind: 'error', error: { jobId, printerId, code, message: code, retryable, at: '' }, seenAt } as JobEvent
})

const status = (printerId: string, state: string, queued?: number): string => JSON.stringify({ printerId, state, relayId: 'r', at: '2026-11-30T10:00:00Z', ...(queued === undefined ? {} : { queued }) })

describe('metrics', () => {
  it('counts results by outcome, retryable errors apart, and the latency of jobs published with an id', async () => {
    const metrics = new PrintwireMetrics()
    metrics.jobMessage(published('lobby', 'a', 1000))
    metrics.jobMessage(failed('lobby', 'a', 'PRINTER_UNREACHABLE', true, 1100))
    metrics.jobMessage(printed('lobby', 'a', 3000))
    metrics.jobMessage(published('lobby', 'b', 1000))
    metrics.jobMessage(failed('lobby', 'b', 'JOB_EXPIRED', false, 1040))
    // A raw job: published without an id; its result (under the relay's id) has no publish time.
    metrics.jobMessage(published('lobby', undefined, 1000))
    metrics.jobMessage(printed('lobby', 'raw-1', 1200))
    const scrape = await read(metrics)
    expect(sampleValue(scrape, 'printwire_jobs_published_total', { printer: 'lobby' })).toBe(3)
    expect(sampleValue(scrape, 'printwire_job_results_total', { printer: 'lobby', outcome: 'printed' })).toBe(2)
    expect(sampleValue(scrape, 'printwire_job_results_total', { printer: 'lobby', outcome: 'JOB_EXPIRED' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_job_results_total', { printer: 'lobby', outcome: 'PRINTER_UNREACHABLE' })).toBeUndefined()
    expect(sampleValue(scrape, 'printwire_job_retryable_errors_total', { printer: 'lobby', code: 'PRINTER_UNREACHABLE' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_job_latency_seconds_count', { printer: 'lobby', result: 'ok' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_job_latency_seconds_sum', { printer: 'lobby', result: 'ok' })).toBe(2)
    expect(sampleValue(scrape, 'printwire_job_latency_seconds_bucket', { printer: 'lobby', result: 'ok', le: '1' })).toBe(0)
    expect(sampleValue(scrape, 'printwire_job_latency_seconds_bucket', { printer: 'lobby', result: 'ok', le: '2' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_job_latency_seconds_bucket', { printer: 'lobby', result: 'error', le: '0.05' })).toBe(1)
  })

  it('gives at most maxPrinters printers a label; the counters of the rest go to (other), their states are left out', async () => {
    const metrics = new PrintwireMetrics({ maxPrinters: 2 })
    for (const printer of ['p1', 'p2', 'p3', 'p4']) {
      metrics.jobMessage(published(printer, `${printer}-job`, 0))
      metrics.statusMessage(printer, status(printer, 'online', 1))
    }
    const scrape = await read(metrics)
    expect(sampleValue(scrape, 'printwire_jobs_published_total', { printer: 'p1' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_jobs_published_total', { printer: 'p2' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_jobs_published_total', { printer: OTHER_PRINTERS })).toBe(2)
    expect(scrape.samples.filter((s) => s.name === 'printwire_printer_state').map((s) => s.labels.printer)).not.toContain('p3')
    expect(scrape.samples.filter((s) => s.name === 'printwire_printer_queued_jobs').map((s) => s.labels.printer).sort()).toEqual(['p1', 'p2'])
    // A printer labelled already keeps its label.
    metrics.jobMessage(published('p1', 'again', 0))
    expect(sampleValue(await read(metrics), 'printwire_jobs_published_total', { printer: 'p1' })).toBe(2)
  })

  it('gives no label to a printer with nothing counted (a cancel, an answer it cannot read)', async () => {
    const metrics = new PrintwireMetrics({ maxPrinters: 1 })
    metrics.jobMessage({ kind: 'cancel', printerId: 'made-up', seenAt: 0, event: undefined })
    metrics.jobMessage({ kind: 'errors', printerId: 'made-up-too', seenAt: 0, event: undefined })
    metrics.jobMessage(published('lobby', 'a', 0))
    expect(sampleValue(await read(metrics), 'printwire_jobs_published_total', { printer: 'lobby' })).toBe(1)
  })

  it('forgets the publish time of the oldest jobs past maxTrackedJobs', async () => {
    const metrics = new PrintwireMetrics({ maxTrackedJobs: 2 })
    for (const id of ['j1', 'j2', 'j3']) metrics.jobMessage(published('lobby', id, 0))
    for (const id of ['j1', 'j2', 'j3']) metrics.jobMessage(printed('lobby', id, 500))
    expect(sampleValue(await read(metrics), 'printwire_job_latency_seconds_count', { printer: 'lobby', result: 'ok' })).toBe(2)
  })

  it('follows each printer\'s state and queue from its status; a Will without queued keeps the count; an empty status forgets the printer', async () => {
    const metrics = new PrintwireMetrics()
    metrics.statusMessage('lobby', status('lobby', 'online', 4))
    let scrape = await read(metrics)
    expect(sampleValue(scrape, 'printwire_printer_state', { printer: 'lobby', state: 'online' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_printer_state', { printer: 'lobby', state: 'offline' })).toBe(0)
    expect(sampleValue(scrape, 'printwire_printer_queued_jobs', { printer: 'lobby' })).toBe(4)
    metrics.statusMessage('lobby', Buffer.from(status('lobby', 'offline')))
    scrape = await read(metrics)
    expect(sampleValue(scrape, 'printwire_printer_state', { printer: 'lobby', state: 'offline' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_printer_state', { printer: 'lobby', state: 'online' })).toBe(0)
    expect(sampleValue(scrape, 'printwire_printer_queued_jobs', { printer: 'lobby' })).toBe(4)
    // Not a status, or another printer's: ignored.
    metrics.statusMessage('lobby', 'not json')
    metrics.statusMessage('lobby', status('bar', 'error', 1))
    expect(sampleValue(await read(metrics), 'printwire_printer_state', { printer: 'lobby', state: 'offline' })).toBe(1)
    metrics.statusMessage('lobby', '')
    scrape = await read(metrics)
    expect(scrape.samples.filter((s) => s.labels.printer === 'lobby' && s.name.startsWith('printwire_printer_'))).toEqual([])
  })

  it('reads the connections and the broker\'s queues at each scrape, and keeps each instance\'s metrics apart', async () => {
    let relays = 1
    const one = new PrintwireMetrics({ connections: () => ({ relay: relays, client: 2, token: 0, admin: 1 }), brokerQueued: async (printer) => printer === 'lobby' ? 7 : 0 })
    const other = new PrintwireMetrics()
    one.statusMessage('lobby', status('lobby', 'online'))
    one.jobMessage(published('lobby', 'x', 0))
    let scrape = await read(one)
    expect(sampleValue(scrape, 'printwire_connections', { kind: 'relay' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_connections', { kind: 'admin' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_broker_queued_jobs', { printer: 'lobby' })).toBe(7)
    relays = 3
    scrape = await read(one)
    expect(sampleValue(scrape, 'printwire_connections', { kind: 'relay' })).toBe(3)
    const apart = await read(other)
    expect(sampleValue(apart, 'printwire_jobs_published_total', { printer: 'lobby' })).toBeUndefined()
    expect(apart.types.has('printwire_connections')).toBe(false)
  })
})
