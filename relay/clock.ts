/**
 * The relay's clocks and timers, passed in its deps so that tests can skew or advance time instead of waiting:
 * `now`, the machine's wall clock (which can be wrong, and can step), `monotonic`, which only moves forward, at
 * a steady rate, while the process runs, and the timers that wait on it (backoff, expiry, printer timeouts).
 * `test/unit/fakeClock.ts` is one that only moves when a test says so.
 */
import { performance } from 'node:perf_hooks'

/** A pending timer, to cancel with `Clock.clearTimeout`. */
export type TimerHandle = unknown

export interface Clock {
  /** Wall-clock time, ms since the epoch (Date.now()). */
  now(): number
  /** Monotonic ms since an arbitrary origin of this process (performance.now()). */
  monotonic(): number
  /** Runs `run` once `ms` have passed on the monotonic clock. */
  setTimeout(run: () => void, ms: number): TimerHandle
  clearTimeout(timer: TimerHandle): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  // Looked up at each call, not captured: a test's fake timers (vi.useFakeTimers) still apply.
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (timer) => { clearTimeout(timer as NodeJS.Timeout | undefined) }
}

/** Waits `ms` on `clock`; `cancel` ends the wait early (resolving, not rejecting). */
export function sleep (clock: Clock, ms: number): { done: Promise<void>, cancel: () => void } {
  let cancel = (): void => {}
  const done = new Promise<void>((resolve) => {
    const timer = clock.setTimeout(resolve, ms)
    cancel = () => { clock.clearTimeout(timer); resolve() }
  })
  return { done, cancel }
}
