/**
 * Which user owns each client id, kept where the broker keeps its sessions (memory, LevelDB or Redis), so it
 * lasts exactly as long as the sessions it protects.
 *
 * A persistent session (`clean: false`) holds queued messages for its client id, and whoever connects with
 * that id gets them, or wipes them with `clean: true`. MQTT ties a session to nothing but the id, so the first
 * user to log in with a persistent session or a Last Will owns the id from then on: another user's log-in with
 * it is refused (CONNACK 2, identifier rejected) and the session stays as it was. A Will that a later broker
 * instance publishes for a dead one (no client connected) is authorized as the id's owner.
 */
import type { Redis } from 'ioredis'
import type { Level } from 'level'

export interface ClientIdOwners {
  /** The user who owns `clientId`, if any. */
  ownerOf(clientId: string): Promise<string | undefined>
  /** Records `user` as the owner of `clientId` unless it has one already; resolves with the owner it has then. */
  claim(clientId: string, user: string): Promise<string>
}

export class MemoryClientIdOwners implements ClientIdOwners {
  private readonly owners = new Map<string, string>()

  async ownerOf (clientId: string): Promise<string | undefined> {
    return this.owners.get(clientId)
  }

  async claim (clientId: string, user: string): Promise<string> {
    const owner = this.owners.get(clientId)
    if (owner !== undefined) return owner
    this.owners.set(clientId, user)
    return user
  }
}

/** In a sublevel of the broker's LevelDB (its own key prefix: Aedes' store reads only its own prefixes). */
export class LevelClientIdOwners implements ClientIdOwners {
  private readonly owners
  /** Claims under way, by client id: two log-ins with one id at once get one answer. */
  private readonly claiming = new Map<string, Promise<string>>()

  constructor (deps: { db: Level }) {
    this.owners = deps.db.sublevel<string, string>('printwire-client-owners', { valueEncoding: 'utf8' })
  }

  async ownerOf (clientId: string): Promise<string | undefined> {
    return await this.owners.get(clientId) ?? undefined
  }

  async claim (clientId: string, user: string): Promise<string> {
    const earlier = this.claiming.get(clientId)
    if (earlier !== undefined) return await earlier
    const claim = (async () => {
      const owner = await this.ownerOf(clientId)
      if (owner !== undefined) return owner
      // Written like Aedes' own session records: in LevelDB's log before the log-in is accepted, so a process
      // crash keeps it as surely as the session.
      await this.owners.put(clientId, user)
      return user
    })()
    this.claiming.set(clientId, claim)
    try {
      return await claim
    } finally {
      this.claiming.delete(clientId)
    }
  }
}

/** One Redis hash, shared by every broker instance on that Redis. */
export class RedisClientIdOwners implements ClientIdOwners {
  static readonly KEY = 'printwire:client-owners'
  private readonly redis: Redis

  constructor (deps: { redis: Redis }) {
    this.redis = deps.redis
  }

  async ownerOf (clientId: string): Promise<string | undefined> {
    return await this.redis.hget(RedisClientIdOwners.KEY, clientId) ?? undefined
  }

  async claim (clientId: string, user: string): Promise<string> {
    // HSETNX: of two brokers claiming at once, the first wins.
    if (await this.redis.hsetnx(RedisClientIdOwners.KEY, clientId, user) === 1) return user
    return await this.ownerOf(clientId) ?? user
  }
}
