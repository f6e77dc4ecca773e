/**
 * The broker's time, as the relay learns it from `server/time` (an ISO time the broker, or the web server in
 * front of Mosquitto, publishes about once a second): a job's `expiresAt` was written against the clock of
 * whoever published it, which the broker's follows far better than a venue box's, so expiry is judged by it.
 *
 * A sample is the broker's time and the relay's monotonic clock when it arrived; the broker's time later is
 * that sample plus the monotonic time since, so a step of the relay's own wall clock changes nothing. Each
 * connection samples `server/time` on connecting and every SERVER_TIME_RESAMPLE_MS (see brokerLink.ts).
 *
 * Before the first sample, an expiry decision waits (`ready()`) until one arrives or SERVER_TIME_WAIT_MS
 * have passed since start; after that the relay's own clock stands in, with a warning logged once, until a
 * sample arrives (a broker that never publishes `server/time`, a user not allowed to read it).
 */
import type { Logger } from '../runtime/logger.ts'
import type { Clock, TimerHandle } from './clock.ts'

export interface BrokerClockDeps {
  clock: Clock
  logger: Logger
  /** How long expiry decisions wait for the broker's time at start before using the relay's own clock. */
  waitMs: number
}

/** A relay clock this far off the broker's is worth an operator's attention. */
const SKEW_WARNING_MS = 2000

export class BrokerClock {
  private readonly deps: BrokerClockDeps
  private sample: { brokerMs: number, monotonic: number } | undefined
  private waitedOut = false
  private timer: TimerHandle | undefined
  private waiters: Array<() => void> = []
  private warnedFallback = false
  private warnedSkew = false

  constructor (deps: BrokerClockDeps) {
    this.deps = deps
  }

  async start (): Promise<void> {
    this.timer = this.deps.clock.setTimeout(() => {
      this.waitedOut = true
      this.release()
    }, this.deps.waitMs)
  }

  async stop (): Promise<void> {
    this.deps.clock.clearTimeout(this.timer)
    this.waitedOut = true
    this.release()
  }

  /** The broker's time is known. */
  get known (): boolean {
    return this.sample !== undefined
  }

  /** Expiry may be judged now: the broker's time is known, or the wait for it is over. */
  get settled (): boolean {
    return this.sample !== undefined || this.waitedOut
  }

  /** Resolves once expiry may be judged (`settled`). */
  ready (): Promise<void> {
    if (this.settled) return Promise.resolve()
    return new Promise((resolve) => { this.waiters.push(resolve) })
  }

  /** Takes a `server/time` payload. Anything that is not a time is ignored (and logged). */
  observe (payload: string): void {
    const { clock, logger } = this.deps
    const brokerMs = Date.parse(payload)
    if (Number.isNaN(brokerMs)) {
      logger.warn({ payload: payload.slice(0, 64) }, 'server/time is not a time: ignored')
      return
    }
    const first = this.sample === undefined
    this.sample = { brokerMs, monotonic: clock.monotonic() }
    const offsetMs = brokerMs - clock.now()
    if (first) logger.info({ offsetMs }, 'broker time learned from server/time: expiresAt is judged by it')
    if (Math.abs(offsetMs) > SKEW_WARNING_MS && !this.warnedSkew) {
      this.warnedSkew = true
      logger.warn({ offsetMs }, `this relay's clock is ${Math.round(Math.abs(offsetMs) / 1000)} s ${offsetMs < 0 ? 'ahead of' : 'behind'} the broker's: expiresAt is judged by the broker's time (check the relay's NTP)`)
    }
    this.release()
  }

  /** The broker's time now, ms since the epoch; the relay's own clock while it is not known. */
  now (): number {
    const { clock, logger } = this.deps
    if (this.sample !== undefined) return this.sample.brokerMs + (clock.monotonic() - this.sample.monotonic)
    if (!this.warnedFallback) {
      this.warnedFallback = true
      logger.warn({ waitedMs: this.deps.waitMs }, 'no server/time from the broker yet: judging expiresAt by this relay\'s own clock until it comes')
    }
    return clock.now()
  }

  private release (): void {
    const waiters = this.waiters.splice(0)
    for (const resolve of waiters) resolve()
  }
}
