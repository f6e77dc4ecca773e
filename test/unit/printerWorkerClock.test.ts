/**
 * A printer's worker on fake time (test/unit/fakeClock.ts): backoff between attempts, the wait for a faulted
 * printer, expiresAt by the broker's clock, JOB_MAX_AGE and PRINTER_TIMEOUT, without waiting for any of them.
 * The worker, its spool (LevelDB in a temporary directory, unsynced) and the broker clock are real; the printer
 * is a scripted PrinterChannel, so no socket is opened.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeStatusByte } from '../../boca/status.ts'
import type { PrinterReport } from '../../protocol/index.ts'
import { BrokerClock } from '../../relay/brokerClock.ts'
import { loadRelayConfig } from '../../relay/config.ts'
import type { AttemptOptions, AttemptResult, PrinterChannel, PrintTimeouts } from '../../relay/printAttempt.ts'
import { PrinterWorker } from '../../relay/printerWorker.ts'
import { JobSpool } from '../../relay/spool.ts'
import type { StoredOutcome } from '../../relay/spoolLayout.ts'
import { silentLogger } from '../../runtime/logger.ts'
import { FakeClock } from './fakeClock.ts'

type Mode = 'unreachable' | 'print' | 'fault' | 'hang'

/** A printer that does what `mode` says; it records when (fake monotonic ms) each attempt and probe came. */
class ScriptedPrinter implements PrinterChannel {
  mode: Mode = 'unreachable'
  readonly attempts: number[] = []
  readonly probes: number[] = []
  readonly printed: string[] = []
  private readonly clock: FakeClock

  constructor (clock: FakeClock) {
    this.clock = clock
  }

  async print (pieces: readonly Buffer[], expectedAcks: number, timeouts: PrintTimeouts, options: AttemptOptions = {}): Promise<AttemptResult> {
    this.attempts.push(this.clock.mono)
    const report: PrinterReport = { acks: 0, expectedAcks, statusBytes: [], condition: 'none' }
    if (this.mode === 'unreachable') return { outcome: { kind: 'unreachable', reason: 'ECONNREFUSED' }, report, bytesWritten: 0 }
    await options.beforeWrite?.()
    const bytes = Buffer.concat(pieces)
    if (this.mode === 'fault') return { outcome: { kind: 'fault', status: decodeStatusByte(0x18) }, report: { ...report, statusBytes: ['0x18'], condition: 'paper-jam' }, bytesWritten: bytes.length }
    if (this.mode === 'hang') {
      // Takes every byte, then says nothing: the attempt ends when PRINTER_TIMEOUT_MS has passed.
      await new Promise((resolve) => this.clock.setTimeout(() => resolve(undefined), timeouts.printerMs))
      return { outcome: { kind: 'timeout', whileWriting: false, reason: `silent for ${timeouts.printerMs} ms` }, report: { ...report, statusBytes: ['0x06'], condition: 'ticket-ack' }, bytesWritten: bytes.length }
    }
    this.printed.push(bytes.toString())
    return { outcome: { kind: 'printed' }, report: { ...report, acks: expectedAcks, statusBytes: Array(expectedAcks).fill('0x06'), condition: 'ticket-ack' }, bytesWritten: bytes.length }
  }

  async probeReady (): Promise<boolean> {
    this.probes.push(this.clock.mono)
    return this.mode === 'print'
  }

  async checkReachable (): Promise<string | null> {
    return this.mode === 'unreachable' ? 'ECONNREFUSED' : null
  }

  async stop (): Promise<void> {}
}

const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
})

/** Lets the worker and its spool run (real I/O, no fake time passing) until `condition` holds. */
async function until (condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met')
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Once the worker waits `ms` (its timer is set), moves fake time on by `ms`. */
async function advanceOnceWaiting (clock: FakeClock, ms: number): Promise<void> {
  await until(() => clock.waiting.includes(ms))
  clock.advance(ms)
}

async function setup (mode: Mode, env: Record<string, string> = {}): Promise<{ clock: FakeClock, printer: ScriptedPrinter, worker: PrinterWorker, brokerClock: BrokerClock, outcomes: StoredOutcome[], spool: JobSpool }> {
  const clock = new FakeClock()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'printwire-unit-'))
  stops.push(() => rm(dir, { recursive: true, force: true }))
  const config = loadRelayConfig({ PRINTERS: 'lobby=127.0.0.1:9100', STATE_DIR: dir, RETRY_MIN_MS: '100', RETRY_MAX_MS: '400', JOB_MAX_AGE: '0', PRINTER_TIMEOUT_MS: '2000', ...env })
  const spool = new JobSpool({ dir, logger: silentLogger(), dedupeWindow: 100, clock, syncWrites: false })
  await spool.start()
  stops.push(() => spool.stop())
  const brokerClock = new BrokerClock({ clock, logger: silentLogger(), waitMs: 60_000 })
  await brokerClock.start()
  brokerClock.observe(new Date(clock.now()).toISOString())
  stops.push(() => brokerClock.stop())
  const printer = new ScriptedPrinter(clock)
  printer.mode = mode
  const outcomes: StoredOutcome[] = []
  const worker = new PrinterWorker({
    config,
    printer: config.PRINTERS[0] as (typeof config.PRINTERS)[number],
    logger: silentLogger(),
    spool,
    brokerClock,
    clock,
    channel: printer,
    sink: { deliver: (entry) => outcomes.push(entry.outcome), deliverUnstored: () => {}, publishStatus: () => {} }
  })
  await worker.start()
  stops.push(() => worker.stop())
  return { clock, printer, worker, brokerClock, outcomes, spool }
}

const job = (id: string, extra: object = {}): Buffer => Buffer.from(JSON.stringify({ id, data: `${id}<p>`, ...extra }))
const codes = (outcomes: StoredOutcome[]): string[] => outcomes.map((o) => o.kind === 'error' ? o.message.code : o.message.status)

describe('printer worker on fake time', () => {
  it('retries an unreachable printer after RETRY_MIN_MS doubling to RETRY_MAX_MS, reports it once, and prints once it is back', async () => {
    const { clock, printer, worker, outcomes } = await setup('unreachable')
    await worker.accept(job('b-1'))
    await until(() => printer.attempts.length === 1)
    for (const wait of [100, 200, 400, 400]) {
      const before = printer.attempts.length
      await until(() => clock.waiting.includes(wait))
      clock.advance(wait - 1)
      await new Promise((resolve) => setImmediate(resolve))
      expect(printer.attempts).toHaveLength(before) // not a millisecond early
      clock.advance(1)
      await until(() => printer.attempts.length === before + 1)
    }
    expect(printer.attempts).toEqual([0, 100, 300, 700, 1100])
    expect(codes(outcomes)).toEqual(['PRINTER_UNREACHABLE'])
    printer.mode = 'print'
    await advanceOnceWaiting(clock, 400)
    await until(() => outcomes.length === 2)
    expect(codes(outcomes)).toEqual(['PRINTER_UNREACHABLE', 'printed'])
    expect(printer.printed).toEqual(['b-1<p>'])
  })

  it('asks a faulted printer whether it is ready on the same backoff, and resends only once it is', async () => {
    const { clock, printer, worker, outcomes } = await setup('fault')
    await worker.accept(job('f-1'))
    await until(() => printer.probes.length === 1)
    for (const wait of [100, 200, 400]) {
      const before = printer.probes.length
      await advanceOnceWaiting(clock, wait)
      await until(() => printer.probes.length === before + 1)
    }
    expect(printer.probes).toEqual([0, 100, 300, 700])
    expect(printer.attempts).toEqual([0])
    printer.mode = 'print'
    await advanceOnceWaiting(clock, 400)
    await until(() => outcomes.length === 2)
    expect(printer.attempts).toEqual([0, 1100])
    expect(codes(outcomes)).toEqual(['PRINTER_ERROR', 'printed'])
  })

  it('gives JOB_EXPIRED at the first turn after expiresAt by the broker\'s clock, whatever the relay\'s wall clock says', async () => {
    const { clock, printer, worker, brokerClock, outcomes } = await setup('unreachable')
    await worker.accept(job('e-1', { expiresAt: new Date(brokerClock.now() + 1000).toISOString() }))
    await until(() => printer.attempts.length === 1)
    clock.wall -= 3_600_000 // the relay's own clock steps an hour back: expiry goes by the broker's
    for (const wait of [100, 200, 400]) {
      const before = printer.attempts.length
      await advanceOnceWaiting(clock, wait)
      await until(() => printer.attempts.length === before + 1)
    }
    expect(codes(outcomes)).toEqual(['PRINTER_UNREACHABLE'])
    await advanceOnceWaiting(clock, 400) // 1100 ms: past expiresAt
    await until(() => outcomes.length === 2)
    expect(codes(outcomes)).toEqual(['PRINTER_UNREACHABLE', 'JOB_EXPIRED'])
    expect(printer.attempts).toEqual([0, 100, 300, 700])
    expect(worker.pending).toBe(0)
  })

  it('gives JOB_EXPIRED once a job has waited JOB_MAX_AGE on the spool\'s uptime clock', async () => {
    const { clock, printer, worker, outcomes } = await setup('unreachable', { JOB_MAX_AGE: '1' })
    await worker.accept(job('a-1'))
    await until(() => printer.attempts.length === 1)
    for (const wait of [100, 200, 400]) {
      const before = printer.attempts.length
      await advanceOnceWaiting(clock, wait)
      await until(() => printer.attempts.length === before + 1)
    }
    await advanceOnceWaiting(clock, 400)
    await until(() => outcomes.length === 2)
    const expired = outcomes[1]
    expect(expired?.kind === 'error' && expired.message).toMatchObject({ code: 'JOB_EXPIRED', retryable: false })
    expect(expired?.kind === 'error' && expired.message.message).toContain('JOB_MAX_AGE (1 s)')
    expect(printer.attempts).toEqual([0, 100, 300, 700])
  })

  it('ends a job PRINTER_TIMEOUT once a printer that took it stays silent PRINTER_TIMEOUT_MS, and never resends it', async () => {
    const { clock, printer, worker, outcomes, spool } = await setup('hang')
    await worker.accept(job('t-1'))
    await until(() => clock.waiting.includes(2000))
    clock.advance(1999)
    await new Promise((resolve) => setImmediate(resolve))
    expect(outcomes).toEqual([])
    clock.advance(1)
    await until(() => outcomes.length === 1)
    expect(outcomes[0]?.kind === 'error' && outcomes[0].message).toMatchObject({ jobId: 't-1', code: 'PRINTER_TIMEOUT', retryable: false })
    clock.advance(60_000)
    await new Promise((resolve) => setImmediate(resolve))
    expect(printer.attempts).toEqual([0])
    expect(await spool.unfinished('lobby')).toEqual([])
  })
})
