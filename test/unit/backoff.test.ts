/** relay/backoff.ts: capped exponential backoff, RETRY_MIN_MS doubling to RETRY_MAX_MS. */
import { describe, expect, it } from 'vitest'
import { Backoff, nextDelay } from '../../relay/backoff.ts'

describe('backoff', () => {
  it.each([
    { minMs: 500, maxMs: 30_000, waits: [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000] },
    { minMs: 100, maxMs: 350, waits: [100, 200, 350, 350] },
    { minMs: 250, maxMs: 250, waits: [250, 250, 250] }
  ])('waits $waits from $minMs ms, capped at $maxMs ms', ({ minMs, maxMs, waits }) => {
    const backoff = new Backoff({ minMs, maxMs })
    expect(waits.map(() => backoff.next())).toEqual(waits)
  })

  it('starts again at the minimum after reset()', () => {
    const backoff = new Backoff({ minMs: 10, maxMs: 1000 })
    backoff.next()
    backoff.next()
    backoff.reset()
    expect([backoff.next(), backoff.next()]).toEqual([10, 20])
  })

  it.each([[1, 8, 2], [4, 8, 8], [6, 8, 8], [8, 8, 8]])('after %i ms (max %i) waits %i ms', (delay, max, next) => {
    expect(nextDelay(delay, max)).toBe(next)
  })
})
