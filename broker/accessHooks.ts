/**
 * AUTH_FILE enforcement in Aedes (SPEC "Access"), through its four hooks:
 * - authenticate: user name and password (with backoff: access/loginThrottle.ts), and relay client ids reserved for relays;
 * - authorizePublish: only to topics the user may write; a refused PUBLISH closes the connection
 *   (MQTT 3.1.1 has no negative PUBACK: [MQTT-3.3.5-2] allows closing or a silent acknowledgement);
 * - authorizeSubscribe: a filter that can match nothing the user may read is refused (SUBACK 0x80); a
 *   wildcard filter that can only deliver a few concrete topics to this user (a page's `printers/+/status` for a
 *   client of two printers) becomes subscriptions to those topics, so that each message is routed to the
 *   pages that may read it, not to every page for a check: with 1,000 pages and 10,000 relays, every relay's
 *   status went through 1,000 subscriptions (bench/scenarios/scale.ts). Unsubscribing the filter removes them;
 *   what the client receives is the same;
 * - authorizeForward, the second line: every message, live or queued, is checked against what the
 *   receiving user may read, so `#`, `+` or a stale persistent subscription never leak another printer's
 *   jobs or results.
 */
import type { Aedes, AedesOptions, AuthenticateError, Client } from 'aedes'
import type { AccessControl } from '../access/accessControl.ts'
import type { LoginThrottle } from '../access/loginThrottle.ts'
import type { Logger } from '../runtime/logger.ts'
import { clipForLog } from '../runtime/logText.ts'

const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

type Hooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>

export class AccessHooks {
  private readonly access: AccessControl
  private readonly throttle: LoginThrottle
  private readonly logger: Logger
  /** The user each authenticated connection logged in as. */
  private readonly users = new WeakMap<Client, string>()
  /** Per connection, the wildcard filters subscribed as concrete topics (see authorizeSubscribe). */
  private readonly narrowed = new WeakMap<Client, Map<string, string[]>>()

  constructor (deps: { access: AccessControl, throttle: LoginThrottle, logger: Logger }) {
    this.access = deps.access
    this.throttle = deps.throttle
    this.logger = deps.logger
  }

  hooks (): Hooks {
    return {
      authenticate: (client, username, password, done) => {
        // Past its wrong passwords, an address is refused (NOT_AUTHORIZED) without a password check: access/loginThrottle.ts.
        this.throttle.attempt(username, password, remoteAddressOf(client), () => this.access.login(username, password, client.id)).then((result) => {
          if (result.ok && username !== undefined) {
            this.users.set(client, username)
            this.logger.debug({ clientId: clipForLog(client.id), user: clipForLog(username) }, 'client logged in')
            return done(null, true)
          }
          const returnCode = result.refusal === 'BAD_CREDENTIALS' ? BAD_USERNAME_OR_PASSWORD : NOT_AUTHORIZED
          this.logger.warn({ clientId: clipForLog(client.id), user: clipForLog(username), remote: remoteAddressOf(client), reason: result.refusal, ...(result.limit === undefined ? {} : { limit: result.limit, retryAfterMs: result.retryAfterMs }) }, 'connection refused')
          done(Object.assign(new Error(`connection refused: ${result.refusal ?? 'unknown'}`), { returnCode }) as AuthenticateError, false)
        }, (error: unknown) => done(Object.assign(error as Error, { returnCode: NOT_AUTHORIZED }) as AuthenticateError, false))
      },
      authorizePublish: (client, packet, done) => {
        // No client: the broker's own messages (wills of clients of a dead broker instance).
        if (client === null) return done(null)
        const user = this.users.get(client)
        if (user !== undefined && this.access.mayPublish(user, packet.topic)) return done(null)
        this.logger.warn({ clientId: client.id, user, topic: packet.topic }, 'publish refused: connection closed')
        done(new Error(`not allowed to publish to ${packet.topic}`))
      },
      authorizeSubscribe: (client, subscription, done) => {
        const user = this.users.get(client)
        if (user === undefined || !this.access.maySubscribe(user, subscription.topic)) {
          this.logger.warn({ clientId: client.id, user, topic: subscription.topic }, 'subscription refused')
          return done(null, null)
        }
        const topics = this.access.readableTopicsOf(user, subscription.topic)
        if (topics === undefined) return done(null, subscription)
        this.narrowedOf(client).set(subscription.topic, topics)
        const [first, ...rest] = topics as [string, ...string[]]
        const filter = subscription.topic
        // The others as the broker's own SUBSCRIBE for this client: no SUBACK, retained messages sent.
        if (rest.length > 0) {
          client.subscribe(rest.map((topic) => ({ ...subscription, topic })), (error?: Error) => {
            if (error) this.logger.warn({ err: error, clientId: client.id, topic: filter }, 'could not subscribe to a narrowed topic')
          })
        }
        // Rewritten in place, as Aedes documents it: its retained-message read then looks up this topic too,
        // rather than every retained message under the filter.
        subscription.topic = first
        done(null, subscription)
      },
      authorizeForward: (client, packet) => {
        const user = this.users.get(client)
        if (user !== undefined && this.access.mayRead(user, packet.topic)) return packet
        return null
      }
    }
  }

  /** Unsubscribing a filter that was subscribed as concrete topics unsubscribes those topics. */
  watchUnsubscribes (aedes: Aedes): void {
    aedes.on('unsubscribe', (filters, client) => {
      const narrowed = this.narrowed.get(client)
      if (narrowed === undefined) return
      for (const filter of filters) {
        const topics = narrowed.get(filter)
        if (topics === undefined) continue
        narrowed.delete(filter)
        // (Aedes takes a list of topic names here; its typings say subscriptions.)
        client.unsubscribe(topics as never, () => {})
      }
    })
  }

  private narrowedOf (client: Client): Map<string, string[]> {
    let narrowed = this.narrowed.get(client)
    if (narrowed === undefined) {
      narrowed = new Map()
      this.narrowed.set(client, narrowed)
    }
    return narrowed
  }

  /** Closes the connections of users whose AUTH_FILE entry changed or went away: they log in again under the new rules. */
  disconnectUsers (aedes: Aedes, names: string[]): void {
    const changed = new Set(names)
    // Aedes keeps its connected clients in `clients` (by id); its type declarations omit the field.
    const clients = (aedes as unknown as { clients: Record<string, Client> }).clients
    for (const client of Object.values(clients)) {
      const user = this.users.get(client)
      if (user !== undefined && changed.has(user)) {
        this.logger.info({ clientId: client.id, user }, 'user changed in AUTH_FILE: connection closed')
        client.close()
      }
    }
  }
}

/** The client's address: the broker hands Aedes each connection behind a PacketSizeGuard that carries it. */
function remoteAddressOf (client: Client): string | undefined {
  return (client.conn as { remoteAddress?: string }).remoteAddress
}
