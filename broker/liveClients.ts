/**
 * Which client ids are connected, and as whom, across the broker instances that share one store. A log-in
 * checks it before Aedes takes a connected client's id over (accessHooks.ts: another user; relayExclusivity.ts:
 * another relay process), because MQTT lets a new connection under an id close the old one, on any instance
 * (Aedes tells the others through `$SYS/<broker>/new/clients`).
 *
 * One broker process (memory, level): a map, kept by this process's connections. Redis: a hash shared by the
 * instances, each entry naming the instance the client is connected to. Each instance keeps a key alive in Redis
 * (refreshed every ALIVE_REFRESH_MS, expiring after ALIVE_TTL_MS): an entry of an instance whose key is gone (it
 * crashed) counts as gone, so a crashed instance locks nobody out for longer than that; and each instance puts its
 * own entries right every RECONCILE_MS (an entry whose removal was lost in a Redis outage is gone by then).
 */
import type { Redis } from 'ioredis'
import type { Aedes, Client } from 'aedes'
import { connectedClients } from './aedes/internals.ts'

export interface LiveClient {
  /** The broker instance (Aedes id) the client is connected to. */
  broker: string
  user?: string
  /** A relay process's `instance` (from its Will). */
  instance?: string
}

export const ALIVE_REFRESH_MS = 2000
export const ALIVE_TTL_MS = 6000

export interface LiveClientStore {
  /** Starts telling the other instances that `broker` (this one) is alive. */
  start(broker: string): Promise<void>
  stop(): Promise<void>
  /** Whether the instance `broker` is alive. */
  alive(broker: string): Promise<boolean>
  get(clientId: string): Promise<LiveClient | undefined>
  set(clientId: string, client: LiveClient): Promise<void>
  /** Forgets `clientId` if `broker` holds it (a newer connection elsewhere is kept). */
  remove(clientId: string, broker: string): Promise<void>
  /** Makes `broker`'s entries those of `connected` (a write lost during a store outage is put right). */
  reconcile(broker: string, connected: ReadonlyMap<string, LiveClient>): Promise<void>
}

/** How often an instance puts its entries right. */
export const RECONCILE_MS = 5000

export class MemoryLiveClientStore implements LiveClientStore {
  private readonly clients = new Map<string, LiveClient>()
  private broker: string | undefined

  async start (broker: string): Promise<void> {
    this.broker = broker
  }

  async stop (): Promise<void> {}

  /** One process: only this one. */
  async alive (broker: string): Promise<boolean> {
    return broker === this.broker
  }

  async get (clientId: string): Promise<LiveClient | undefined> {
    return this.clients.get(clientId)
  }

  async set (clientId: string, client: LiveClient): Promise<void> {
    this.clients.set(clientId, client)
  }

  async remove (clientId: string, broker: string): Promise<void> {
    if (this.clients.get(clientId)?.broker === broker) this.clients.delete(clientId)
  }

  /** (One process: its map is never out of step.) */
  async reconcile (): Promise<void> {}
}

const REMOVE_IF_BROKER = "local v = redis.call('HGET', KEYS[1], ARGV[1]) if v and cjson.decode(v).broker == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0"

export class RedisLiveClientStore implements LiveClientStore {
  static readonly KEY = 'printwire:live-clients'
  private readonly redis: Redis
  private broker: string | undefined
  private timer: NodeJS.Timeout | undefined

  constructor (deps: { redis: Redis }) {
    this.redis = deps.redis
  }

  private aliveKey (broker: string): string {
    return `printwire:broker-alive:${broker}`
  }

  async start (broker: string): Promise<void> {
    this.broker = broker
    const refresh = (): Promise<unknown> => this.redis.set(this.aliveKey(broker), '1', 'PX', ALIVE_TTL_MS)
    await refresh()
    this.timer = setInterval(() => { refresh().catch(() => {}) }, ALIVE_REFRESH_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    if (this.broker !== undefined) await this.redis.del(this.aliveKey(this.broker)).catch(() => {})
  }

  async alive (broker: string): Promise<boolean> {
    return await this.redis.exists(this.aliveKey(broker)) === 1
  }

  async get (clientId: string): Promise<LiveClient | undefined> {
    const value = await this.redis.hget(RedisLiveClientStore.KEY, clientId)
    return value === null ? undefined : JSON.parse(value) as LiveClient
  }

  async set (clientId: string, client: LiveClient): Promise<void> {
    await this.redis.hset(RedisLiveClientStore.KEY, clientId, JSON.stringify(client))
  }

  async remove (clientId: string, broker: string): Promise<void> {
    await this.redis.eval(REMOVE_IF_BROKER, 1, RedisLiveClientStore.KEY, clientId, broker)
  }

  async reconcile (broker: string, connected: ReadonlyMap<string, LiveClient>): Promise<void> {
    const stale: string[] = []
    let cursor = '0'
    do {
      const [next, fields] = await this.redis.hscan(RedisLiveClientStore.KEY, cursor, 'COUNT', 1000)
      cursor = next
      for (let i = 0; i < fields.length; i += 2) {
        const clientId = fields[i] as string
        const entry = JSON.parse(fields[i + 1] as string) as LiveClient
        if (entry.broker === broker && !connected.has(clientId)) stale.push(clientId)
      }
    } while (cursor !== '0')
    for (const clientId of stale) await this.remove(clientId, broker)
    for (const [clientId, client] of connected) {
      if (await this.redis.hget(RedisLiveClientStore.KEY, clientId) === null) await this.set(clientId, client)
    }
  }
}

export interface LiveClientsDeps {
  aedes: Aedes
  store: LiveClientStore
}

export class LiveClients {
  private readonly deps: LiveClientsDeps
  /** What each connection of this instance registered, to register it once it is up. */
  private readonly pending = new WeakMap<Client, Omit<LiveClient, 'broker'>>()
  private timer: NodeJS.Timeout | undefined

  constructor (deps: LiveClientsDeps) {
    this.deps = deps
  }

  async start (): Promise<void> {
    const { aedes, store } = this.deps
    await store.start(aedes.id)
    this.timer = setInterval(() => { store.reconcile(aedes.id, this.connected()).catch(() => {}) }, RECONCILE_MS)
    this.timer.unref()
    aedes.on('client', (client) => {
      const info = this.pending.get(client) ?? {}
      store.set(client.id, { broker: aedes.id, ...info }).catch(() => {})
    })
    aedes.on('clientDisconnect', (client) => {
      store.remove(client.id, aedes.id).catch(() => {})
    })
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.deps.store.stop()
  }

  /** This instance's connected clients, as registered. */
  private connected (): Map<string, LiveClient> {
    const { aedes } = this.deps
    const connected = new Map<string, LiveClient>()
    for (const [clientId, client] of Object.entries(connectedClients(aedes))) {
      if (client !== undefined && !client.closed) connected.set(clientId, { broker: aedes.id, ...this.pending.get(client) })
    }
    return connected
  }

  /** What a connection logging in now will register once it is up. */
  note (client: Client, info: Omit<LiveClient, 'broker'>): void {
    this.pending.set(client, { ...this.pending.get(client), ...info })
  }

  /** The client connected under `clientId` on another instance (or on this one, other than `client`), if any. */
  async other (client: Client): Promise<LiveClient | undefined> {
    const { aedes, store } = this.deps
    const local = connectedClients(aedes)[client.id]
    if (local !== undefined && local !== client && !local.closed) return { broker: aedes.id, ...this.pending.get(local) }
    const entry = await store.get(client.id)
    if (entry === undefined || entry.broker === aedes.id || !await store.alive(entry.broker)) return undefined
    return entry
  }
}
