/**
 * Claims the broker keeps where it keeps its sessions (memory, LevelDB or Redis), so they last exactly as long
 * as the sessions they protect, and are shared by every broker instance on one Redis:
 * - which user owns each client id (accessHooks.ts): a persistent session holds queued messages for its client
 *   id, and MQTT ties a session to nothing but the id;
 * - which relay serves each printer (relayExclusivity.ts): two relays would print every job twice.
 * A claim is taken atomically (two brokers, or two log-ins at once, get one answer), and released only by its
 * holder.
 */
import type { Redis } from 'ioredis'
import type { Level } from 'level'

export interface Claims {
  /** Who holds `key`, if anyone. */
  holderOf(key: string): Promise<string | undefined>
  /** Gives `key` to `holder` unless someone holds it already; resolves with the holder it has then. */
  claim(key: string, holder: string): Promise<string>
  /** Gives `key` to `holder`, whoever held it (the earlier holder is gone: a user removed from AUTH_FILE). */
  transfer(key: string, holder: string): Promise<void>
  /** Frees `key` if `holder` holds it. */
  release(key: string, holder: string): Promise<void>
}

export class MemoryClaims implements Claims {
  private readonly holders = new Map<string, string>()

  async holderOf (key: string): Promise<string | undefined> {
    return this.holders.get(key)
  }

  async claim (key: string, holder: string): Promise<string> {
    const current = this.holders.get(key)
    if (current !== undefined) return current
    this.holders.set(key, holder)
    return holder
  }

  async transfer (key: string, holder: string): Promise<void> {
    this.holders.set(key, holder)
  }

  async release (key: string, holder: string): Promise<void> {
    if (this.holders.get(key) === holder) this.holders.delete(key)
  }
}

/**
 * In a sublevel of the broker's LevelDB (its own key prefix: Aedes' store reads only its own prefixes), written
 * like Aedes' own session records: in LevelDB's log before the answer, so a process crash keeps it. One broker
 * process owns a LevelDB, so claims are made atomic by running them one after another per key.
 */
export class LevelClaims implements Claims {
  private readonly store
  private readonly busy = new Map<string, Promise<unknown>>()
  /**
   * Holders read or written before (this process owns the LevelDB, so they stay right): a relay's log-in reads
   * once. Only keys that have a holder: the random ids of pages' clean sessions are not remembered.
   */
  private readonly known = new Map<string, string>()

  constructor (deps: { db: Level, name: string }) {
    this.store = deps.db.sublevel<string, string>(deps.name, { valueEncoding: 'utf8' })
  }

  async holderOf (key: string): Promise<string | undefined> {
    const known = this.known.get(key)
    if (known !== undefined) return known
    const holder = await this.store.get(key) ?? undefined
    if (holder !== undefined) this.known.set(key, holder)
    return holder
  }

  claim (key: string, holder: string): Promise<string> {
    return this.serial(key, async () => {
      const current = await this.holderOf(key)
      if (current !== undefined) return current
      await this.store.put(key, holder)
      this.known.set(key, holder)
      return holder
    })
  }

  transfer (key: string, holder: string): Promise<void> {
    return this.serial(key, async () => {
      await this.store.put(key, holder)
      this.known.set(key, holder)
    })
  }

  release (key: string, holder: string): Promise<void> {
    return this.serial(key, async () => {
      if (await this.holderOf(key) !== holder) return
      await this.store.del(key)
      this.known.delete(key)
    })
  }

  private serial<T> (key: string, run: () => Promise<T>): Promise<T> {
    const previous = this.busy.get(key) ?? Promise.resolve()
    const next = previous.then(run, run)
    this.busy.set(key, next)
    const forget = (): void => { if (this.busy.get(key) === next) this.busy.delete(key) }
    next.then(forget, forget)
    return next
  }
}

/** Frees a field only if it still holds the expected value (one step for Redis: no other broker in between). */
const RELEASE_IF_HELD = "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0"

/** One Redis hash per kind of claim, shared by every broker instance on that Redis. */
export class RedisClaims implements Claims {
  private readonly redis: Redis
  private readonly key: string

  constructor (deps: { redis: Redis, key: string }) {
    this.redis = deps.redis
    this.key = deps.key
  }

  async holderOf (key: string): Promise<string | undefined> {
    return await this.redis.hget(this.key, key) ?? undefined
  }

  async claim (key: string, holder: string): Promise<string> {
    // HSETNX: of two brokers claiming at once, the first wins.
    if (await this.redis.hsetnx(this.key, key, holder) === 1) return holder
    return await this.holderOf(key) ?? holder
  }

  async transfer (key: string, holder: string): Promise<void> {
    await this.redis.hset(this.key, key, holder)
  }

  async release (key: string, holder: string): Promise<void> {
    await this.redis.eval(RELEASE_IF_HELD, 1, this.key, key, holder)
  }
}
