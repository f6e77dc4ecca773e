/**
 * The HTTP API acts over MQTT as its caller: one client-library connection per set of credentials, logged in
 * with the caller's own user name and password (or token), so that the broker applies to it exactly the grants
 * it applies to MQTT, and the job history names the caller. With the embedded broker the connection is in
 * process (no socket, and not behind the broker's per-address log-in backoff: the API throttles each request). Connections are kept while used and closed after
 * IDLE_MS without a request.
 */
import { createHash } from 'node:crypto'
import { connect, type ConnectOptions, type PrintwireClient } from '../../client/index.ts'
import type { BrokerKind } from '../../protocol/index.ts'
import type { Logger } from '../../runtime/logger.ts'

/** How long an unused connection is kept. */
export const IDLE_MS = 60_000
/**
 * Unused connections kept at most: past this, opening one for a new caller first closes the least recently used
 * idle ones. (Connections in use are bounded by the requests in flight: one HTTP request uses one at a time.) A
 * user can mint any number of distinct tokens, each a caller of its own: without this bound each would hold a
 * broker connection for IDLE_MS.
 */
export const MAX_IDLE_CONNECTIONS = 64

export interface CallerLogin {
  username?: string
  password?: string
}

/** The key of a caller's connection: the same credentials, the same connection (the password never kept as such). */
export function loginKey (login: CallerLogin): string {
  return createHash('sha256').update(`${login.username ?? ''}\u0000${login.password ?? ''}`).digest('base64')
}

export interface CallerConnectionsDeps {
  /** The broker's MQTT URL, read when a connection is opened. */
  brokerUrl: () => string
  /**
   * A caller's transport to the broker inside this process, when it has one (the embedded broker's
   * connectInProcess; in Mosquitto mode, the token gateway for a token): otherwise `brokerUrl` over the network.
   */
  transportFor?: (login: CallerLogin) => ConnectOptions['transport']
  topicPrefix: string
  broker: BrokerKind
  logger: Logger
}

interface Entry {
  client: Promise<PrintwireClient>
  users: number
  idle: NodeJS.Timeout | undefined
}

export class CallerConnections {
  private readonly deps: CallerConnectionsDeps
  private readonly entries = new Map<string, Entry>()

  constructor (deps: CallerConnectionsDeps) {
    this.deps = deps
  }

  async start (): Promise<void> {}

  async stop (): Promise<void> {
    const entries = [...this.entries.values()]
    this.entries.clear()
    await Promise.all(entries.map(async (entry) => {
      clearTimeout(entry.idle)
      await entry.client.then((client) => client.close(), () => {})
    }))
  }

  /** Runs `use` with the caller's connection; a connection that cannot log in is not kept. */
  async with<T> (login: CallerLogin, use: (client: PrintwireClient) => Promise<T>): Promise<T> {
    const key = loginKey(login)
    const entry = this.entryFor(key, login)
    entry.users++
    clearTimeout(entry.idle)
    try {
      return await use(await entry.client)
    } finally {
      entry.users--
      if (entry.users === 0 && this.entries.get(key) === entry) {
        entry.idle = setTimeout(() => { void this.drop(key, entry) }, IDLE_MS)
        entry.idle.unref()
        this.dropIdleBeyond(MAX_IDLE_CONNECTIONS)
      }
    }
  }

  private entryFor (key: string, login: CallerLogin): Entry {
    const known = this.entries.get(key)
    if (known !== undefined) {
      // Moved to the end: the map's order is the order of last use.
      this.entries.delete(key)
      this.entries.set(key, known)
      return known
    }
    this.dropIdleBeyond(MAX_IDLE_CONNECTIONS - 1)
    const { brokerUrl, topicPrefix, broker } = this.deps
    const transport = this.deps.transportFor?.(login)
    const client = connect(brokerUrl(), { ...login, topicPrefix, broker, reconnectPeriodMs: 500, ...(transport === undefined ? {} : { transport }) })
    const entry: Entry = { client, users: 0, idle: undefined }
    this.entries.set(key, entry)
    client.catch(() => { if (this.entries.get(key) === entry) this.entries.delete(key) })
    return entry
  }

  /** Closes the least recently used idle connections until at most `keep` are idle. */
  private dropIdleBeyond (keep: number): void {
    const idle = [...this.entries].filter(([, entry]) => entry.users === 0)
    for (const [key, entry] of idle.slice(0, Math.max(0, idle.length - keep))) {
      clearTimeout(entry.idle)
      void this.drop(key, entry)
    }
  }

  private async drop (key: string, entry: Entry): Promise<void> {
    if (this.entries.get(key) !== entry || entry.users > 0) return
    this.entries.delete(key)
    await entry.client.then((client) => client.close(), () => {})
  }
}
