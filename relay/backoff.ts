/**
 * Capped exponential backoff: waits start at `minMs` and double up to `maxMs` (RETRY_MIN_MS..RETRY_MAX_MS for
 * a printer that cannot take a job; the spool's reopen after a failed write).
 */

export interface BackoffRange {
  minMs: number
  maxMs: number
}

/** The wait after `delayMs`: doubled, never above `maxMs`. */
export function nextDelay (delayMs: number, maxMs: number): number {
  return Math.min(delayMs * 2, maxMs)
}

/** The waits of one series of retries: `next()` gives the wait before the next try; `reset()` starts again at `minMs`. */
export class Backoff {
  private readonly range: BackoffRange
  private delayMs: number

  constructor (range: BackoffRange) {
    this.range = range
    this.delayMs = range.minMs
  }

  next (): number {
    const delay = this.delayMs
    this.delayMs = nextDelay(delay, this.range.maxMs)
    return delay
  }

  reset (): void {
    this.delayMs = this.range.minMs
  }
}
