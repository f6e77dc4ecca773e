/**
 * AUTH_FILE enforcement in Aedes (SPEC "Access"), through its four hooks:
 * - authenticate: user name and password, and relay client ids reserved for relays;
 * - authorizePublish: only to topics the user may write; a refused PUBLISH closes the connection
 *   (MQTT 3.1.1 has no negative PUBACK: [MQTT-3.3.5-2] allows closing or a silent acknowledgement);
 * - authorizeSubscribe: a filter that can match nothing the user may read is refused (SUBACK 0x80);
 * - authorizeForward, the second line: every message, live or queued, is checked against what the
 *   receiving user may read, so `#`, `+` or a stale persistent subscription never leak another printer's
 *   jobs or results.
 */
import type { Aedes, AedesOptions, AuthenticateError, Client } from 'aedes'
import type { AccessControl } from '../access/accessControl.ts'
import type { Logger } from '../runtime/logger.ts'

const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

type Hooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>

export class AccessHooks {
  private readonly access: AccessControl
  private readonly logger: Logger
  /** The user each authenticated connection logged in as. */
  private readonly users = new WeakMap<Client, string>()

  constructor (deps: { access: AccessControl, logger: Logger }) {
    this.access = deps.access
    this.logger = deps.logger
  }

  hooks (): Hooks {
    return {
      authenticate: (client, username, password, done) => {
        this.access.login(username, password, client.id).then((result) => {
          if (result.ok && username !== undefined) {
            this.users.set(client, username)
            this.logger.debug({ clientId: client.id, user: username }, 'client logged in')
            return done(null, true)
          }
          const returnCode = result.refusal === 'BAD_CREDENTIALS' ? BAD_USERNAME_OR_PASSWORD : NOT_AUTHORIZED
          this.logger.warn({ clientId: client.id, user: username, reason: result.refusal }, 'connection refused')
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
        if (user !== undefined && this.access.maySubscribe(user, subscription.topic)) return done(null, subscription)
        this.logger.warn({ clientId: client.id, user, topic: subscription.topic }, 'subscription refused')
        done(null, null)
      },
      authorizeForward: (client, packet) => {
        const user = this.users.get(client)
        if (user !== undefined && this.access.mayRead(user, packet.topic)) return packet
        return null
      }
    }
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
