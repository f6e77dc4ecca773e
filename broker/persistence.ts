/**
 * The broker's persistence (sessions, queued QoS 1 messages, retained messages) and message bus:
 * `memory`; `level` (embedded LevelDB under DATA_DIR, survives restarts); `redis` (REDIS_URL: survives
 * restarts, and several broker processes sharing one Redis serve the same topics, through mqemitter-redis).
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { Level } from 'level'
import levelPersistence from 'aedes-persistence-level'
import redisPersistence from 'aedes-persistence-redis'
import mqemitterRedis from 'mqemitter-redis'
import type { Logger } from '../runtime/logger.ts'
import type { BrokerConfig } from './config.ts'
import { LevelClaims, MemoryClaims, RedisClaims, type Claims } from './claims.ts'
import { MemoryQueueCounts, RedisQueueCounts, type QueueCounts } from './jobQueueLimits.ts'
import { MemoryLiveClientStore, RedisLiveClientStore, type LiveClientStore } from './liveClients.ts'
import { historyLimits, type JobHistoryStore } from '../runtime/jobHistory/jobHistoryStore.ts'
import { LevelJobHistory } from '../runtime/jobHistory/levelJobHistory.ts'
import { MemoryJobHistory } from '../runtime/jobHistory/memoryJobHistory.ts'
import { RedisJobHistory } from './redisJobHistory.ts'
import { openRedis, redactRedisUrl } from './redisConnection.ts'
import { closeWithin, coalesceSubscriptionStores, guardRetainedReads, watchMessageBusErrors, type CallbackPersistence } from './aedes/persistencePatches.ts'
import { narrowRetainedReads } from './aedes/retainedReads.ts'

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
  /** Every job's state, JOB_HISTORY_DAYS (runtime/jobHistory/, redisJobHistory.ts). */
  jobHistory: JobHistoryStore
}

/** One broker process owns the store: counts and live clients in memory; claims and the job history in memory or in LevelDB. */
function processStores (claims: (name: string) => Claims, jobHistory: JobHistoryStore): PrintwireStores {
  return { owners: claims('printwire-client-owners'), printerRelays: claims('printwire-printer-relays'), queueCounts: new MemoryQueueCounts(), liveClients: new MemoryLiveClientStore(), jobHistory }
}

/** Every broker instance on one Redis shares them. */
function redisStores (redis: Redis, config: BrokerConfig): PrintwireStores {
  return {
    owners: new RedisClaims({ redis, key: 'printwire:client-owners' }),
    printerRelays: new RedisClaims({ redis, key: 'printwire:printer-relays' }),
    queueCounts: new RedisQueueCounts({ redis }),
    liveClients: new RedisLiveClientStore({ redis }),
    jobHistory: new RedisJobHistory({ redis, limits: historyLimits(config) })
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

/** Queued messages a reconnecting session is sent at most, with redis persistence (see openPersistence). */
export const REDIS_SESSION_DELIVERY = 100_000

export async function openPersistence (config: BrokerConfig, logger: Logger): Promise<BrokerPersistence> {
  if (config.PERSISTENCE === 'memory') {
    return { instance: undefined, mq: undefined, ...processStores(() => new MemoryClaims(), new MemoryJobHistory({ limits: historyLimits(config) })), close: async () => {}, describe: 'memory (lost on restart)' }
  }
  if (config.PERSISTENCE === 'redis') {
    // Each connection is ready (its INFO ready check done) before it is used: a connection that
    // subscribes before its ready check ends fails it ("only SUBSCRIBE ... allowed in this context").
    // A Redis that cannot be reached is one error naming REDIS_URL (redisConnection.ts).
    const [conn, subConn, pubConn] = await openRedis(config.REDIS_URL, 3) as [Redis, Redis, Redis]
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
    watchMessageBusErrors(mq, logger)
    conn.on('error', (error: Error) => logger.error({ err: error }, 'redis persistence error'))
    // Not `instance.destroy()`: it first unsubscribes from the message bus, which Aedes has closed by then,
    // and so never returns. Its only other step is to close this connection.
    const close = async (): Promise<void> => { await conn.quit() }
    return { instance, mq, ...redisStores(conn, config), close, describe: `redis (${redactRedisUrl(config.REDIS_URL)})` }
  }
  const dir = path.resolve(config.DATA_DIR, 'broker-level')
  await mkdir(dir, { recursive: true })
  const db = new Level(dir)
  await db.open()
  const instance = levelPersistence(db) as CallbackPersistence
  narrowRetainedReads(instance, db)
  guardRetainedReads(instance, logger)
  return { instance, mq: undefined, ...processStores((name) => new LevelClaims({ db, name }), new LevelJobHistory({ db, limits: historyLimits(config) })), close: closeWithin(instance, logger), describe: `level (${dir})` }
}
