/**
 * The relay's clocks, passed in its deps so that tests can skew or advance them without fake timers:
 * `now`, the machine's wall clock (which can be wrong, and can step), and `monotonic`, which only moves
 * forward, at a steady rate, while the process runs.
 */
import { performance } from 'node:perf_hooks'

export interface Clock {
  /** Wall-clock time, ms since the epoch (Date.now()). */
  now(): number
  /** Monotonic ms since an arbitrary origin of this process (performance.now()). */
  monotonic(): number
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now()
}
