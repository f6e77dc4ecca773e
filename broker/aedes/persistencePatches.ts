/**
 * Patches to the persistences and message bus Aedes is given (see README.md in this folder for the list, why
 * each is needed and its upstream issue). Each is applied by broker/persistence.ts when it opens a store.
 */
import type { Logger } from '../../runtime/logger.ts'

export interface CallbackPersistence {
  destroy(cb?: () => void): Promise<void> | undefined
  addSubscriptions(client: unknown, subs: object, cb?: (error?: Error) => void): Promise<unknown> | undefined
}

/**
 * Aedes 1.x stores a persistent client's SUBSCRIBE once per topic in it, each time with the whole list
 * (aedes issue #458). aedes-persistence-redis then waits for its own broadcast of each store under one key
 * per client and first topic, so all but one of the waits are lost and a SUBSCRIBE of two or more topics
 * with `clean: false` never gets its SUBACK. Concurrent stores of the same list are one store here.
 */
export function coalesceSubscriptionStores (instance: CallbackPersistence): void {
  const inflight = new WeakMap<object, Promise<unknown>>()
  const store = instance.addSubscriptions.bind(instance)
  instance.addSubscriptions = (client, subs, cb) => {
    if (cb !== undefined) return store(client, subs, cb)
    let pending = inflight.get(subs)
    if (pending === undefined) {
      pending = Promise.resolve(store(client, subs))
      inflight.set(subs, pending)
      const forget = (): void => { inflight.delete(subs) }
      pending.then(forget, forget)
    }
    return pending
  }
}

/**
 * Aedes reads a new subscription's retained messages with `stream.pipe(...)` (lib/handlers/subscribe.js) and no
 * 'error' listener on the stream: a store that fails during that read (Redis going away right after a SUBSCRIBE)
 * made the stream's error an uncaught exception, and ended the broker. The error is logged here instead; the
 * subscriber then misses those retained messages, as it would have with the broker gone.
 */
export function guardRetainedReads (instance: object, logger: Logger): void {
  const store = instance as { createRetainedStreamCombi(patterns: string[]): NodeJS.EventEmitter }
  const read = store.createRetainedStreamCombi.bind(store)
  store.createRetainedStreamCombi = (patterns) => read(patterns).on('error', (error: Error) => {
    logger.warn({ err: error, patterns: patterns.slice(0, 5) }, 'could not read retained messages for a subscription')
  })
}

/** How long closing the store may take before the broker exits without waiting for it. */
const CLOSE_DEADLINE_MS = 3000

/**
 * Closes a callback-style persistence, but not for ever: LevelDB's close waits for every open iterator,
 * and Aedes can leave one open for a client it dropped mid-delivery. Every write is already in the store's
 * log by then, so exiting without the close loses nothing.
 *
 * Through the promise form of `destroy`: its callback form waits for a 'ready' event that the callback layer
 * (aedes-persistence 11) emits only when `broker` is assigned, while Aedes 1.x calls `setup()` instead, so it
 * never came and every stop waited out the deadline.
 */
export function closeWithin (instance: CallbackPersistence, logger: Logger): () => Promise<void> {
  return async () => {
    let timer: NodeJS.Timeout | undefined
    const closed = Promise.resolve(instance.destroy()).then(() => true, (error: unknown) => {
      logger.warn({ err: error }, 'the persistence could not close')
      return true
    })
    const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), CLOSE_DEADLINE_MS) })
    const inTime = await Promise.race([closed, late])
    clearTimeout(timer)
    if (!inTime) logger.warn({ deadlineMs: CLOSE_DEADLINE_MS }, 'the persistence did not close in time; exiting without waiting for it')
  }
}

/**
 * mqemitter-redis emits its Redis connections' errors on `state`, which its typings omit (mqemitter-redis issue
 * #42); with no listener there, a Redis outage is an unhandled 'error' event and ends the process (issue #15).
 */
export function watchMessageBusErrors (mq: unknown, logger: Logger): void {
  ;(mq as { state: NodeJS.EventEmitter }).state.on('error', (error: Error) => logger.error({ err: error }, 'redis message bus error'))
}
