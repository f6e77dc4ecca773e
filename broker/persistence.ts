/**
 * The broker's persistence (sessions, queued QoS 1 messages, retained messages) and message bus:
 * `memory`; `level` (embedded LevelDB under DATA_DIR, survives restarts); `redis` (REDIS_URL: survives
 * restarts, and several broker processes sharing one Redis serve the same topics, through mqemitter-redis).
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { Redis } from 'ioredis'
import { Level } from 'level'
import levelPersistence from 'aedes-persistence-level'
import redisPersistence from 'aedes-persistence-redis'
import mqemitterRedis from 'mqemitter-redis'
import type { Logger } from '../runtime/logger.ts'
import type { BrokerConfig } from './config.ts'
import { LevelClaims, MemoryClaims, RedisClaims, type Claims } from './claims.ts'
import { MemoryQueueCounts, RedisQueueCounts, type QueueCounts } from './jobQueueLimits.ts'
import { MemoryLiveClientStore, RedisLiveClientStore, type LiveClientStore } from './liveClients.ts'
import { narrowRetainedReads } from './retainedReads.ts'

/** What Printwire keeps beside Aedes' sessions, in the same store (claims.ts, jobQueueLimits.ts, liveClients.ts). */
export interface PrintwireStores {
  /** Who owns each client id. */
  owners: Claims
  /** Which relay serves each printer. */
  printerRelays: Claims
  /** Jobs waiting at the broker per printer: in Redis with redis, else in this process. */
  queueCounts: QueueCounts
  /** Who is connected to which broker instance: in Redis with redis, else in this process. */
  liveClients: LiveClientStore
}

/** One broker process owns the store: counts and live clients in memory; claims in memory or in LevelDB. */
function processStores (claims: (name: string) => Claims): PrintwireStores {
  return { owners: claims('printwire-client-owners'), printerRelays: claims('printwire-printer-relays'), queueCounts: new MemoryQueueCounts(), liveClients: new MemoryLiveClientStore() }
}

/** Every broker instance on one Redis shares them. */
function redisStores (redis: Redis): PrintwireStores {
  return {
    owners: new RedisClaims({ redis, key: 'printwire:client-owners' }),
    printerRelays: new RedisClaims({ redis, key: 'printwire:printer-relays' }),
    queueCounts: new RedisQueueCounts({ redis }),
    liveClients: new RedisLiveClientStore({ redis })
  }
}

export interface BrokerPersistence extends PrintwireStores {
  /** What Aedes takes as `persistence`; undefined means Aedes' own in-memory store. */
  instance: unknown
  /** What Aedes takes as `mq`; undefined means one process's in-memory emitter. Aedes closes it. */
  mq: unknown
  /** Closes the store once Aedes has closed. */
  close(): Promise<void>
  describe: string
}

interface CallbackPersistence {
  destroy(cb?: () => void): Promise<void> | undefined
  addSubscriptions(client: unknown, subs: object, cb?: (error?: Error) => void): Promise<unknown> | undefined
}

/**
 * Aedes 1.x stores a persistent client's SUBSCRIBE once per topic in it, each time with the whole list
 * (aedes issue #458). aedes-persistence-redis then waits for its own broadcast of each store under one key
 * per client and first topic, so all but one of the waits are lost and a SUBSCRIBE of two or more topics
 * with `clean: false` never gets its SUBACK. Concurrent stores of the same list are one store here.
 */
function coalesceSubscriptionStores (instance: CallbackPersistence): void {
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
function guardRetainedReads (instance: object, logger: Logger): void {
  const store = instance as { createRetainedStreamCombi(patterns: string[]): NodeJS.EventEmitter }
  const read = store.createRetainedStreamCombi.bind(store)
  store.createRetainedStreamCombi = (patterns) => read(patterns).on('error', (error: Error) => {
    logger.warn({ err: error, patterns: patterns.slice(0, 5) }, 'could not read retained messages for a subscription')
  })
}

/** Queued messages a reconnecting session is sent at most, with redis persistence (see openPersistence). */
export const REDIS_SESSION_DELIVERY = 100_000

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
function destroyer (instance: CallbackPersistence, logger: Logger): () => Promise<void> {
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

/** A URL without its password, for logs. */
function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'redis://(unparsable URL)'
  }
}

export async function openPersistence (config: BrokerConfig, logger: Logger): Promise<BrokerPersistence> {
  if (config.PERSISTENCE === 'memory') {
    return { instance: undefined, mq: undefined, ...processStores(() => new MemoryClaims()), close: async () => {}, describe: 'memory (lost on restart)' }
  }
  if (config.PERSISTENCE === 'redis') {
    // Each connection is ready (its INFO ready check done) before it is used: a connection that
    // subscribes before its ready check ends fails it ("only SUBSCRIBE ... allowed in this context").
    const [conn, subConn, pubConn] = await Promise.all([0, 1, 2].map(async () => {
      const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 3 })
      await redis.connect()
      return redis
    })) as [Redis, Redis, Redis]
    // On reconnect, aedes-persistence-redis sends a session at most `maxSessionDelivery` queued messages
    // (default 1000), counted from the oldest list entry. Entries of messages delivered by an earlier broker
    // process are not cleared by their PUBACK (it maps message ids to entries in memory only), so after
    // restarts the first 1000 can all be old ones and newer queued jobs are never sent. A far larger window
    // keeps every queued job deliverable; the relay answers the old ones as duplicates.
    const instance = redisPersistence({ conn, maxSessionDelivery: REDIS_SESSION_DELIVERY }) as CallbackPersistence
    coalesceSubscriptionStores(instance)
    guardRetainedReads(instance, logger)
    const mq = mqemitterRedis({ subConn, pubConn })
    // Redis errors are reported here rather than thrown as an unhandled 'error' event; ioredis reconnects.
    // (`state` is where mqemitter-redis emits its connections' errors; its typings omit it.)
    ;(mq as unknown as { state: NodeJS.EventEmitter }).state.on('error', (error: Error) => logger.error({ err: error }, 'redis message bus error'))
    conn.on('error', (error: Error) => logger.error({ err: error }, 'redis persistence error'))
    // Not `instance.destroy()`: it first unsubscribes from the message bus, which Aedes has closed by then,
    // and so never returns. Its only other step is to close this connection.
    const close = async (): Promise<void> => { await conn.quit() }
    return { instance, mq, ...redisStores(conn), close, describe: `redis (${redactUrl(config.REDIS_URL)})` }
  }
  const dir = path.resolve(config.DATA_DIR, 'broker-level')
  await mkdir(dir, { recursive: true })
  const db = new Level(dir)
  await db.open()
  const instance = levelPersistence(db) as CallbackPersistence
  narrowRetainedReads(instance, db)
  guardRetainedReads(instance, logger)
  return { instance, mq: undefined, ...processStores((name) => new LevelClaims({ db, name })), close: destroyer(instance, logger), describe: `level (${dir})` }
}
