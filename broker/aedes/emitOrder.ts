/**
 * Keeps Aedes emitting messages in the order it numbered them, while their stores run concurrently.
 *
 * Aedes numbers each message (`brokerCounter`) when `publish` starts, then stores it (retained, queued for
 * persistent sessions) and emits it to live subscribers. Stores complete in any order: LevelDB's thread pool,
 * a retained message's extra Redis write, or a message with no persistent subscriber that needs no write at
 * all. Each connection then drops any message numbered below the last one it was sent (lib/client.js `dedupe`),
 * so a message overtaken this way is lost to every subscriber that got the later one (a page missed a printer's
 * `error` status when the job's error overtook it). Here a message is emitted only once every message numbered
 * before it by `publish` has been emitted or has failed; it is held until then.
 *
 * Only numbers taken by `publish` are waited for: Aedes also numbers retained messages it sends on SUBSCRIBE,
 * which are never emitted. Should a publish never finish (a store that never answers), the messages behind it
 * are let go after STALL_MS, with an error logged: a stalled broker would be worse than the drop.
 */
import type { Aedes } from 'aedes'
import { lastMessageNumber, messageBusOf } from './internals.ts'

import type { Logger } from '../../runtime/logger.ts'

/** How long messages wait behind one publish that does not finish. */
export const STALL_MS = 10_000

type Emit = ReturnType<typeof messageBusOf>['emit']

export class EmitOrder {
  private readonly aedes: Aedes
  /** Numbers taken by `publish`, in order, not yet emitted or failed (finished ones are dropped from the front). */
  private readonly pending: number[] = []
  /** The same numbers, to look one up without a scan. */
  private readonly pendingSet = new Set<number>()
  private readonly finished = new Set<number>()
  private readonly held = new Map<number, () => void>()
  /** When the earliest pending number became the earliest, to notice a stall. */
  private firstSince = { counter: 0, at: 0 }
  private readonly logger: Logger
  private emit: Emit | undefined
  private watchdog: NodeJS.Timeout | undefined
  /** The most messages held at once, for operators and tests. */
  maxHeld = 0

  constructor (deps: { aedes: Aedes, logger: Logger }) {
    this.aedes = deps.aedes
    this.logger = deps.logger
  }

  stop (): void {
    clearInterval(this.watchdog)
  }

  start (): void {
    this.watchdog = setInterval(() => this.letGoOfStall(), 1000)
    this.watchdog.unref()
    const mq = messageBusOf(this.aedes)
    const emit = mq.emit.bind(mq)
    this.emit = emit
    mq.emit = (packet, done) => {
      const counter = packet.brokerCounter
      // By number alone: a Will of a dead broker instance keeps that instance's `brokerId`, and is numbered here.
      if (counter === undefined || !this.isPending(counter)) return emit(packet, done)
      this.held.set(counter, () => emit(packet, done))
      if (this.held.size > this.maxHeld) this.maxHeld = this.held.size
      this.release()
    }
  }

  /** How many messages wait for an earlier one now. */
  get depth (): number {
    return this.held.size
  }

  /**
   * Runs Aedes' `publish` call `start`, noting the number it gives its message. Returns that number (to pass
   * to `failed`), or undefined when the call numbered nothing (refused at once, or a packet numbered before).
   */
  numbered (start: () => void): number | undefined {
    const counter = lastMessageNumber(this.aedes) + 1
    this.pending.push(counter)
    this.pendingSet.add(counter)
    start()
    if (lastMessageNumber(this.aedes) >= counter) return counter
    this.finish(counter)
    return undefined
  }

  /** A message that will never be emitted (its store failed): later ones no longer wait for it. */
  failed (counter: number): void {
    if (!this.isPending(counter)) return
    this.finish(counter)
    this.release()
  }

  private isPending (counter: number): boolean {
    return !this.finished.has(counter) && this.pendingSet.has(counter)
  }

  private finish (counter: number): void {
    this.finished.add(counter)
    while (this.pending.length > 0 && this.finished.has(this.pending[0] as number)) {
      const done = this.pending.shift() as number
      this.finished.delete(done)
      this.pendingSet.delete(done)
    }
  }

  private letGoOfStall (): void {
    const first = this.pending[0]
    if (first === undefined || this.held.size === 0) return
    const now = Date.now()
    if (this.firstSince.counter !== first) {
      this.firstSince = { counter: first, at: now }
      return
    }
    if (now - this.firstSince.at < STALL_MS) return
    this.logger.error({ counter: first, held: this.held.size, waitedMs: now - this.firstSince.at }, 'a publish has not finished: the messages behind it are emitted without it')
    this.finish(first)
    this.release()
  }

  /** Emits held messages while the earliest pending number is one of them. */
  private release (): void {
    for (;;) {
      const first = this.pending[0]
      if (first === undefined) return
      const emit = this.held.get(first)
      if (emit === undefined) return
      this.held.delete(first)
      this.finish(first)
      emit()
    }
  }
}
