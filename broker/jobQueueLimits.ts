/**
 * How many jobs, and how many bytes of them, the broker holds for each printer's relay: stored and not yet
 * acknowledged by the relay (issue #10, finding 8: 400 MiB queued for an absent relay took the broker from 132
 * to 572 MB). A job that would go over MAX_QUEUED_JOBS or MAX_QUEUED_BYTES is not queued: publishGate.ts
 * acknowledges it, drops it and answers QUEUE_FULL on the printer's `errors` topic, so its publisher is told.
 *
 * A job counts from its store until the relay's PUBACK (QoS 1) or PUBCOMP (QoS 2); when the printer's relay
 * (the one holding it, relayExclusivity.ts) starts a new session, its count starts again at zero. With Redis the
 * counts live in Redis, so a job stored through one broker instance and acknowledged through another is counted
 * once; otherwise in this process. Jobs queued before a broker restart (level) are not counted until they are
 * delivered: a deliberate limit, since counting them would mean reading every queue at start, so at most twice
 * the limit can wait across one restart.
 */
import type { Redis } from 'ioredis'
import type { Aedes, AedesPublishPacket, Client, ConnackPacket } from 'aedes'
import { parsePrinterTopic, parseRelayClientId } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { Claims } from './claims.ts'
import { ALIVE_REFRESH_MS } from './liveClients.ts'

export interface QueueLimits {
  maxJobs: number
  maxBytes: number
}

export interface QueueCount {
  jobs: number
  bytes: number
}

/** Where the counts are kept: this process, or Redis (shared by broker instances). */
export interface QueueCounts {
  /** Begins keeping counts for broker instance `broker`; `alive` says whether another instance still runs. */
  start(broker: string, alive: (broker: string) => Promise<boolean>): Promise<void>
  stop(): Promise<void>
  /** Counts one job of `bytes` for `printerId` if it fits; otherwise counts nothing and resolves with what waits. */
  reserve(printerId: string, bytes: number, limits: QueueLimits): Promise<{ ok: boolean, count: QueueCount }>
  /** A reserved job is stored: it counts until its relay takes it. */
  stored(printerId: string, bytes: number): Promise<void>
  /** A reserved job that was not queued after all (its store failed, or no relay session subscribes). */
  unreserve(printerId: string, bytes: number): Promise<void>
  /** The relay took a job: one job of `bytes` off `printerId`'s count (never below zero). */
  taken(printerId: string, bytes: number): Promise<void>
  reset(printerId: string): Promise<void>
  count(printerId: string): Promise<QueueCount>
}

export class MemoryQueueCounts implements QueueCounts {
  private readonly counts = new Map<string, QueueCount>()

  async start (): Promise<void> {}
  async stop (): Promise<void> {}

  async reserve (printerId: string, bytes: number, limits: QueueLimits): Promise<{ ok: boolean, count: QueueCount }> {
    const count = this.counts.get(printerId) ?? { jobs: 0, bytes: 0 }
    if (count.jobs + 1 > limits.maxJobs || count.bytes + bytes > limits.maxBytes) return { ok: false, count: { ...count } }
    this.counts.set(printerId, { jobs: count.jobs + 1, bytes: count.bytes + bytes })
    return { ok: true, count: { ...count } }
  }

  async stored (): Promise<void> {}

  async unreserve (printerId: string, bytes: number): Promise<void> {
    await this.taken(printerId, bytes)
  }

  async taken (printerId: string, bytes: number): Promise<void> {
    const count = this.counts.get(printerId)
    if (count === undefined) return
    count.jobs = Math.max(0, count.jobs - 1)
    count.bytes = Math.max(0, count.bytes - bytes)
  }

  async reset (printerId: string): Promise<void> {
    this.counts.delete(printerId)
  }

  async count (printerId: string): Promise<QueueCount> {
    return { ...(this.counts.get(printerId) ?? { jobs: 0, bytes: 0 }) }
  }
}

/** KEYS: jobs, bytes, this instance's reserved jobs, its reserved bytes; ARGV: printer, bytes, max jobs, max bytes. */
const RESERVE = `
local jobs = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local bytes = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if jobs + 1 > tonumber(ARGV[3]) or bytes + tonumber(ARGV[2]) > tonumber(ARGV[4]) then return {0, jobs, bytes} end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HINCRBY', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
redis.call('HINCRBY', KEYS[4], ARGV[1], ARGV[2])
return {1, jobs, bytes}`
/**
 * KEYS: a jobs hash and a bytes hash; ARGV: printer, jobs, bytes (taken off, never below zero). (`0 - x`, not
 * `-x`: Lua's -0 reaches Redis as "-0", which HINCRBY refuses.)
 */
const TAKE = `
if redis.call('HINCRBY', KEYS[1], ARGV[1], 0 - tonumber(ARGV[2])) < 0 then redis.call('HSET', KEYS[1], ARGV[1], 0) end
if redis.call('HINCRBY', KEYS[2], ARGV[1], 0 - tonumber(ARGV[3])) < 0 then redis.call('HSET', KEYS[2], ARGV[1], 0) end
return 1`
/** KEYS: jobs, bytes, a dead instance's reserved jobs and bytes: what it reserved and never stored is given back. */
const RELEASE_DEAD = `
local jobs = redis.call('HGETALL', KEYS[3])
for i = 1, #jobs, 2 do
  if redis.call('HINCRBY', KEYS[1], jobs[i], 0 - tonumber(jobs[i + 1])) < 0 then redis.call('HSET', KEYS[1], jobs[i], 0) end
end
local bytes = redis.call('HGETALL', KEYS[4])
for i = 1, #bytes, 2 do
  if redis.call('HINCRBY', KEYS[2], bytes[i], 0 - tonumber(bytes[i + 1])) < 0 then redis.call('HSET', KEYS[2], bytes[i], 0) end
end
redis.call('DEL', KEYS[3], KEYS[4])
return 1`

/**
 * In Redis, shared by broker instances. A job is reserved before its store and counted from then on; until the
 * store confirms it, the instance that reserved it also keeps it in its own reserved counts. An instance that
 * dies between the two (SIGKILL) leaves them there: a live instance gives them back once the dead one's alive
 * key is gone (liveClients.ts), so a crash never leaves jobs counted that were never queued.
 */
export class RedisQueueCounts implements QueueCounts {
  static readonly JOBS = 'printwire:queued-jobs'
  static readonly BYTES = 'printwire:queued-bytes'
  static readonly INSTANCES = 'printwire:queued-reserving'
  private readonly redis: Redis
  private broker = ''
  private timer: NodeJS.Timeout | undefined

  constructor (deps: { redis: Redis }) {
    this.redis = deps.redis
  }

  private reservedKeys (broker: string): [string, string] {
    return [`printwire:queued-reserved-jobs:${broker}`, `printwire:queued-reserved-bytes:${broker}`]
  }

  async start (broker: string, alive: (broker: string) => Promise<boolean>): Promise<void> {
    this.broker = broker
    await this.redis.sadd(RedisQueueCounts.INSTANCES, broker)
    const sweep = async (): Promise<void> => {
      for (const other of await this.redis.smembers(RedisQueueCounts.INSTANCES)) {
        if (other === broker || await alive(other)) continue
        await this.redis.eval(RELEASE_DEAD, 4, RedisQueueCounts.JOBS, RedisQueueCounts.BYTES, ...this.reservedKeys(other))
        await this.redis.srem(RedisQueueCounts.INSTANCES, other)
      }
    }
    // A failed sweep (Redis busy) is tried again at the next tick; it never stops the broker from starting.
    await sweep().catch(() => {})
    this.timer = setInterval(() => { sweep().catch(() => {}) }, ALIVE_REFRESH_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
  }

  async reserve (printerId: string, bytes: number, limits: QueueLimits): Promise<{ ok: boolean, count: QueueCount }> {
    const [ok, jobs, queuedBytes] = await this.redis.eval(RESERVE, 4, RedisQueueCounts.JOBS, RedisQueueCounts.BYTES, ...this.reservedKeys(this.broker), printerId, bytes, limits.maxJobs, limits.maxBytes) as [number, number, number]
    return { ok: ok === 1, count: { jobs, bytes: queuedBytes } }
  }

  async stored (printerId: string, bytes: number): Promise<void> {
    await this.redis.eval(TAKE, 2, ...this.reservedKeys(this.broker), printerId, 1, bytes)
  }

  async unreserve (printerId: string, bytes: number): Promise<void> {
    await this.stored(printerId, bytes)
    await this.taken(printerId, bytes)
  }

  async taken (printerId: string, bytes: number): Promise<void> {
    await this.redis.eval(TAKE, 2, RedisQueueCounts.JOBS, RedisQueueCounts.BYTES, printerId, 1, bytes)
  }

  async reset (printerId: string): Promise<void> {
    await this.redis.multi().hdel(RedisQueueCounts.JOBS, printerId).hdel(RedisQueueCounts.BYTES, printerId).exec()
  }

  async count (printerId: string): Promise<QueueCount> {
    const [jobs, bytes] = await Promise.all([this.redis.hget(RedisQueueCounts.JOBS, printerId), this.redis.hget(RedisQueueCounts.BYTES, printerId)])
    return { jobs: Number(jobs ?? 0), bytes: Number(bytes ?? 0) }
  }
}

export interface JobQueueLimitsDeps {
  aedes: Aedes
  counts: QueueCounts
  /** Which relay serves each printer: only its new session starts the count again. */
  relays: Claims
  topicPrefix: string
  limits: QueueLimits
  /** Whether another broker instance still runs (liveClients.ts), for the counts a dead one left. */
  alive: (broker: string) => Promise<boolean>
  logger: Logger
}

export class JobQueueLimits {
  private readonly deps: JobQueueLimitsDeps

  constructor (deps: JobQueueLimitsDeps) {
    this.deps = deps
  }

  async start (): Promise<void> {
    const { aedes, counts, relays, logger } = this.deps
    await counts.start(aedes.id, this.deps.alive)
    // ('ack' is emitted with the stored packet on a PUBACK, and on a PUBCOMP with a stored PUBREL that has no
    // topic; Aedes' typings omit the event.)
    ;(aedes as unknown as NodeJS.EventEmitter).on('ack', (packet: AedesPublishPacket | undefined, client: Client) => {
      if (typeof packet?.topic !== 'string') return
      const printerId = parseRelayClientId(client.id)?.printerId
      if (printerId === undefined || this.printerOfJob(packet.topic) !== printerId) return
      counts.taken(printerId, payloadBytes(packet.payload)).catch((error: unknown) => logger.warn({ err: error, printerId }, 'could not count a job the relay took'))
    })
    aedes.on('connackSent', (packet: ConnackPacket, client: Client) => {
      const relay = parseRelayClientId(client.id)
      if (relay === null || packet.sessionPresent) return
      // The printer's relay starts anew, or nobody holds the printer any more (its session was ended): nothing waits.
      relays.holderOf(relay.printerId)
        .then((holder) => holder === undefined || holder === relay.relayId ? counts.reset(relay.printerId) : undefined)
        .catch((error: unknown) => logger.warn({ err: error, printerId: relay.printerId }, 'could not reset the count of a printer\'s queue'))
    })
  }

  async stop (): Promise<void> {
    await this.deps.counts.stop()
  }

  /** The printer of a jobs topic, or undefined for any other topic. */
  printerOfJob (topic: string): string | undefined {
    const parsed = parsePrinterTopic(this.deps.topicPrefix, topic)
    return parsed?.kind === 'jobs' ? parsed.printerId : undefined
  }

  /** Counts a job of `bytes` for `printerId`; a reason to give when it does not fit (and then counts nothing). */
  async reserve (printerId: string, bytes: number): Promise<string | undefined> {
    const { maxJobs, maxBytes } = this.deps.limits
    const { ok, count } = await this.deps.counts.reserve(printerId, bytes, this.deps.limits)
    if (ok) return undefined
    if (count.jobs + 1 > maxJobs) return `${count.jobs} jobs already wait for printer ${printerId}'s relay at the broker (MAX_QUEUED_JOBS ${maxJobs})`
    return `${count.bytes} bytes of jobs already wait for printer ${printerId}'s relay at the broker, and this one has ${bytes} (MAX_QUEUED_BYTES ${maxBytes})`
  }

  /** A job counted by `reserve` is stored. */
  async stored (printerId: string, bytes: number): Promise<void> {
    await this.deps.counts.stored(printerId, bytes)
  }

  /** A job counted by `reserve` that was not queued after all. */
  async giveBack (printerId: string, bytes: number): Promise<void> {
    await this.deps.counts.unreserve(printerId, bytes)
  }

  /** The printer's relay session was ended: nothing waits for it any more. */
  async reset (printerId: string): Promise<void> {
    await this.deps.counts.reset(printerId)
  }

  /** What waits for `printerId`'s relay, as counted. */
  queued (printerId: string): Promise<QueueCount> {
    return this.deps.counts.count(printerId)
  }
}

export function payloadBytes (payload: Buffer | string | undefined): number {
  if (payload === undefined) return 0
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
}
