/** takeoverWatch.ts: when a relay's connections closed right after opening mean another process has its RELAY_ID. */
import { describe, expect, it } from 'vitest'
import { captureLog } from '../../harness/logCapture.ts'
import { QUICK_CLOSE_MS, QUICK_CLOSES, REPORT_AGAIN_MS, TakeoverWatch } from '../../relay/takeoverWatch.ts'

function watch (): { w: TakeoverWatch, errors: () => string[], advance: (ms: number) => void } {
  const log = captureLog()
  let now = 1_000_000
  const w = new TakeoverWatch({ logger: log.logger, relayId: 'box-1', printerId: 'lobby', clientId: 'printwire-relay:box-1:lobby', now: () => now })
  return { w, errors: () => log.entries().filter((e) => e.level === 50).map((e) => String(e.msg)), advance: (ms) => { now += ms } }
}

/** One connection that lasts `ms`, closed by the broker unless `byUs`. */
function session (t: ReturnType<typeof watch>, ms: number, byUs = false): void {
  t.w.connected()
  t.advance(ms)
  t.w.closed(byUs)
}

describe('TakeoverWatch', () => {
  it('says the broker\'s notice of another process refused under its RELAY_ID once, then again at most once a minute', () => {
    const t = watch()
    t.w.toldByBroker()
    expect(t.errors()).toHaveLength(1)
    expect(t.errors()[0]).toMatch(/refused another relay process with the same RELAY_ID \(box-1\) for printer lobby/)
    for (let i = 0; i < 20; i++) { t.advance(2000); t.w.toldByBroker() }
    expect(t.errors()).toHaveLength(1)
    t.advance(REPORT_AGAIN_MS)
    t.w.toldByBroker()
    expect(t.errors()).toHaveLength(2)
  })

  it(`says once, naming RELAY_ID, after ${QUICK_CLOSES} connections in a row closed by the broker right after opening`, () => {
    const t = watch()
    for (let i = 1; i < QUICK_CLOSES; i++) session(t, 1500)
    expect(t.errors()).toEqual([])
    session(t, 1500)
    expect(t.errors()).toHaveLength(1)
    expect(t.errors()[0]).toMatch(/same RELAY_ID \(box-1\) serves printer lobby/)
    for (let i = 0; i < 5; i++) session(t, 1500)
    expect(t.errors()).toHaveLength(1)
  })

  it('does not count closes the relay made itself, attempts that never connected, or connections that held', () => {
    const t = watch()
    for (let i = 0; i < QUICK_CLOSES * 2; i++) session(t, 100, true)
    for (let i = 0; i < QUICK_CLOSES * 2; i++) t.w.closed(false)
    for (let i = 0; i < QUICK_CLOSES * 2; i++) {
      session(t, 100)
      if (i % (QUICK_CLOSES - 1) === 0) session(t, QUICK_CLOSE_MS)
    }
    expect(t.errors()).toEqual([])
  })

  it('says it again in a new episode, after a connection held', () => {
    const t = watch()
    for (let i = 0; i < QUICK_CLOSES; i++) session(t, 100)
    session(t, QUICK_CLOSE_MS + 1)
    for (let i = 0; i < QUICK_CLOSES; i++) session(t, 100)
    expect(t.errors()).toHaveLength(2)
  })
})
