/** The relay's printer status (relay/printerStatus.ts): `queued` follows the queue, coalesced; states at once. */
import { describe, expect, it } from 'vitest'
import { PrinterStatus, QUEUED_COALESCE_MS, type StatusReport } from '../../relay/printerStatus.ts'
import { readPrinterStatus } from '../../protocol/index.ts'
import { silentLogger } from '../../runtime/logger.ts'
import { FakeClock } from './fakeClock.ts'

function statusWith (queue: { length: number }, clock: FakeClock, problem: () => string | undefined = () => undefined): { status: PrinterStatus, published: StatusReport[] } {
  const published: StatusReport[] = []
  const status = new PrinterStatus({ logger: silentLogger(), storageProblem: problem, queued: () => queue.length, clock, publish: (report) => published.push(report) })
  return { status, published }
}

describe('printer status: queued', () => {
  it('publishes a burst of queue changes once, after QUEUED_COALESCE_MS, with the count then', () => {
    const clock = new FakeClock()
    const queue = { length: 0 }
    const { status, published } = statusWith(queue, clock)
    for (let i = 0; i < 50; i++) {
      queue.length++
      status.queueChanged()
    }
    expect(published).toEqual([])
    clock.advance(QUEUED_COALESCE_MS - 1)
    expect(published).toEqual([])
    clock.advance(1)
    expect(published).toEqual([{ state: 'online', queued: 50 }])
    // Back to 0, one message; nothing when the count came back to what was announced.
    queue.length = 0
    status.queueChanged()
    clock.advance(QUEUED_COALESCE_MS)
    expect(published.at(-1)).toEqual({ state: 'online', queued: 0 })
    queue.length = 1
    status.queueChanged()
    queue.length = 0
    clock.advance(QUEUED_COALESCE_MS)
    expect(published).toHaveLength(2)
  })

  it('publishes at most one message per QUEUED_COALESCE_MS while the queue keeps changing', () => {
    const clock = new FakeClock()
    const queue = { length: 0 }
    const { status, published } = statusWith(queue, clock)
    for (let ms = 0; ms < 1000; ms += 10) {
      queue.length++
      status.queueChanged()
      clock.advance(10)
    }
    expect(published.length).toBeLessThanOrEqual(1000 / QUEUED_COALESCE_MS)
    expect(published.at(-1)?.queued).toBe(100)
  })

  it('announces a change of state at once, with the jobs waiting', () => {
    const clock = new FakeClock()
    const queue = { length: 3 }
    const { status, published } = statusWith(queue, clock)
    status.set('unreachable', '10.0.0.1:9100: ECONNREFUSED')
    expect(published).toEqual([{ state: 'unreachable', detail: '10.0.0.1:9100: ECONNREFUSED', queued: 3 }])
    expect(status.current()).toEqual({ state: 'unreachable', detail: '10.0.0.1:9100: ECONNREFUSED', queued: 3 })
  })

  it('publishes nothing after stop', () => {
    const clock = new FakeClock()
    const queue = { length: 0 }
    const { status, published } = statusWith(queue, clock)
    queue.length = 2
    status.queueChanged()
    status.stop()
    status.queueChanged()
    clock.advance(QUEUED_COALESCE_MS * 4)
    expect(published).toEqual([])
    expect(clock.waiting).toEqual([])
  })
})

describe('status payload: queued', () => {
  const base = { printerId: 'lobby', state: 'online', relayId: 'r1', at: '2026-11-30T10:00:00.000Z' }

  it('is read when it is a count', () => {
    expect(readPrinterStatus(JSON.stringify({ ...base, queued: 4 }))?.queued).toBe(4)
    expect(readPrinterStatus(JSON.stringify({ ...base, queued: 0 }))?.queued).toBe(0)
  })

  it('is dropped when it is not a count, the rest of the status still read', () => {
    for (const queued of [-1, 1.5, '3', null, 1e20]) {
      const read = readPrinterStatus(JSON.stringify({ ...base, queued }))
      expect(read?.state, String(queued)).toBe('online')
      expect(read !== null && 'queued' in read, String(queued)).toBe(false)
    }
  })
})
