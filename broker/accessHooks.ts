/**
 * AUTH_FILE enforcement in Aedes (SPEC "Access"), through its four hooks:
 * - authenticate: user name and password (with backoff: access/loginThrottle.ts); relay client ids reserved for
 *   relays of that printer; the Last Will authorized like any publish (a Will the user may not publish refuses
 *   the log-in: CONNACK 5); a client id bound to the user who first held a persistent session or a Will with it
 *   (claims.ts): anyone else's log-in with it is refused (CONNACK 2) and the session stays as it was;
 * - authorizePublish: only to topics the user may write; a refused PUBLISH closes the connection
 *   (MQTT 3.1.1 has no negative PUBACK: [MQTT-3.3.5-2] allows closing or a silent acknowledgement). A Will that a
 *   broker instance publishes for a dead one comes with no client: it is authorized as its client id's owner,
 *   and refused (never published) when the id has none or the owner may not publish it;
 * - authorizeSubscribe: a filter that can match nothing the user may read is refused (SUBACK 0x80); a
 *   wildcard filter that can only deliver a few concrete topics to this user (a page's `printers/+/status` for a
 *   client of two printers) becomes subscriptions to those topics, so that each message is routed to the
 *   pages that may read it, not to every page for a check (BENCHMARKS.md, "Scale"). Unsubscribing the filter removes them;
 *   what the client receives is the same;
 * - authorizeForward, the second line: every message, live or queued, is checked against what the
 *   receiving user may read, so `#`, `+` or a stale persistent subscription never leak another printer's
 *   jobs or results.
 *
 * Browser tokens (access/tokens.ts) log in through the same hook, with any user name: past the same throttle
 * (a forged or altered token is a wrong password; an expired one is not a guess), but no scrypt. The
 * connection is then `token:<issuer>:<printers>`, a client of the token's printers, closed when the token
 * expires. It never takes a relay's client id, leaves a Will only where its printers allow, and never locks
 * an AUTH_FILE user out of a client id: a user's log-in takes an id over from a token connection, live or
 * persistent (a token's session is its holder's, not its issuer's: the issuer's own ids stay closed to it).
 */
import type { Aedes, AedesOptions, AuthenticateError, Client, PublishPacket } from 'aedes'
import type { AccessControl, LoginResult } from '../access/accessControl.ts'
import { connectedClients, willOf } from './aedes/internals.ts'
import { filtersOverlap } from '../access/policy.ts'
import { anyPrinterTopic, cancelTopic, jobsTopic, LEGACY_RELAY_CLIENT_ID_PREFIX, legacyRelayReadings, parseRelayClientId, PrintwireError } from '../protocol/index.ts'
import type { LoginThrottle, ThrottledLoginResult } from '../access/loginThrottle.ts'
import { isTokenPrincipal, isTokenShaped, parseTokenPrincipal, throttleNameFor } from '../access/tokens.ts'
import type { Logger } from '../runtime/logger.ts'
import { clipForLog } from '../runtime/logText.ts'
import type { Claims } from './claims.ts'
import type { LiveClients } from './liveClients.ts'

const IDENTIFIER_REJECTED = 2
/** Refused subscriptions logged as warnings per connection; the rest at debug level. */
const LOGGED_REFUSALS_PER_CONNECTION = 5
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

/** Why a log-in was refused after its password checked out. */
type AdmissionRefusal = 'CLIENT_ID_RESERVED' | 'WILL_NOT_ALLOWED' | 'CLIENT_ID_OWNED'



type Hooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>

export class AccessHooks {
  private readonly access: AccessControl
  private readonly owners: Claims
  private readonly relays: Claims
  private readonly throttle: LoginThrottle
  private readonly isInProcess: (conn: object) => boolean
  private readonly logger: Logger
  private aedes: Aedes | undefined
  private live: LiveClients | undefined
  /** The user each authenticated connection logged in as. */
  private readonly users = new WeakMap<Client, string>()
  /** Per connection, subscriptions refused so far (only the first few are warnings). */
  private readonly refusedSubscriptions = new WeakMap<Client, number>()
  /** Per connection, the wildcard filters subscribed as concrete topics (see authorizeSubscribe). */
  private readonly narrowed = new WeakMap<Client, Map<string, string[]>>()
  /** Per token connection, when its token expires (Unix ms), and the timer that closes it then. */
  private readonly expiries = new WeakMap<Client, number>()
  private readonly expiryTimers = new WeakMap<Client, NodeJS.Timeout>()

  constructor (deps: { access: AccessControl, owners: Claims, relays: Claims, throttle: LoginThrottle, isInProcess?: (conn: object) => boolean, logger: Logger }) {
    this.access = deps.access
    this.owners = deps.owners
    this.relays = deps.relays
    this.throttle = deps.throttle
    this.isInProcess = deps.isInProcess ?? (() => false)
    this.logger = deps.logger
  }

  /** The user `client` logged in as (the job history records who published a job). */
  userOf (client: Client): string | undefined {
    return this.users.get(client)
  }

  /** Aedes' four access hooks, each a method below. */
  hooks (): Hooks {
    return {
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, subscription, done) => this.authorizeSubscribe(client, subscription, done),
      authorizeForward: (client, packet) => this.authorizeForward(client, packet)
    }
  }

  private authenticate (...[client, username, password, done]: Parameters<Hooks['authenticate']>): void {
    const refuse = (returnCode: number, reason: string, extra: Record<string, unknown> = {}): void => {
      this.logger.warn({ clientId: clipForLog(client.id), user: clipForLog(username), remote: remoteAddressOf(client), reason, ...extra }, 'connection refused')
      done(Object.assign(new Error(`connection refused: ${reason}`), { returnCode }) as AuthenticateError, false)
    }
    // Past its wrong passwords, an address is refused (NOT_AUTHORIZED) without a password check: access/loginThrottle.ts.
    const token = password !== undefined && isTokenShaped(password)
    let tokenDetail: Record<string, unknown> = {}
    const login = async (): Promise<LoginResult> => {
      const result = await this.access.login(username, password, client.id)
      if (token) tokenDetail = { token: result.tokenRefusal ?? 'valid', ...(result.principal === undefined ? {} : { as: clipForLog(result.principal) }) }
      return result
    }
    // In-process connections (the HTTP API: BrokerCore.connectInProcess) were throttled by the API, per caller address.
    const attempt: Promise<ThrottledLoginResult> = this.isInProcess(client.conn) ? login() : this.throttle.attempt(throttleNameFor(username, password), password, remoteAddressOf(client), login)
    attempt.then(async (result) => {
      const principal = result.principal ?? username
      if (!result.ok || principal === undefined) {
        const limit = result.limit === undefined ? {} : { limit: result.limit, retryAfterMs: result.retryAfterMs }
        return refuse(result.refusal === 'BAD_CREDENTIALS' ? BAD_USERNAME_OR_PASSWORD : NOT_AUTHORIZED, result.refusal ?? 'unknown', { ...tokenDetail, ...limit })
      }
      const refusal = await this.admit(client, principal)
      if (refusal !== undefined) return refuse(refusal === 'CLIENT_ID_OWNED' ? IDENTIFIER_REJECTED : NOT_AUTHORIZED, refusal, tokenDetail)
      // A token's connection is a clean session (a page's): a persistent one would outlive the token, its queue
      // kept for weeks, one per client id its holder makes up. Without a client id, MQTT says CONNACK 2 (Aedes
      // has named it `aedes_<uuid>` by now).
      if (result.expiresAt !== undefined && !client.clean) {
        return client.id.startsWith('aedes_')
          ? refuse(IDENTIFIER_REJECTED, 'TOKEN_SESSION_WITHOUT_ID', tokenDetail)
          : refuse(NOT_AUTHORIZED, 'TOKEN_PERSISTENT_SESSION', tokenDetail)
      }
      this.users.set(client, principal)
      if (result.expiresAt !== undefined) this.expiries.set(client, result.expiresAt)
      this.logger.debug({ clientId: clipForLog(client.id), user: clipForLog(principal) }, 'client logged in')
      done(null, true)
    }).catch((error: unknown) => done(Object.assign(error as Error, { returnCode: NOT_AUTHORIZED }) as AuthenticateError, false))
  }

  private authorizePublish (...[client, packet, done]: Parameters<Hooks['authorizePublish']>): void {
    if (client === null) return this.authorizeOrphanWill(packet, done)
    const user = this.users.get(client)
    if (user !== undefined && this.access.mayPublish(user, packet.topic)) return done(null)
    this.logger.warn({ clientId: clipForLog(client.id), user, topic: clipForLog(packet.topic) }, 'publish refused: connection closed')
    done(new PrintwireError('PUBLISH_NOT_ALLOWED', `not allowed to publish to ${packet.topic}`))
  }

  private authorizeSubscribe (...[client, subscription, done]: Parameters<Hooks['authorizeSubscribe']>): void {
    const user = this.users.get(client)
    const refusal = user === undefined || !this.access.maySubscribe(user, subscription.topic)
      ? 'it can match nothing the user may read'
      : this.relayRequestsRefusal(client, user, subscription.topic)
    if (refusal !== undefined || user === undefined) {
      // A few per connection at warn level: a client refused in a loop does not fill the log.
      const refused = (this.refusedSubscriptions.get(client) ?? 0) + 1
      this.refusedSubscriptions.set(client, refused)
      this.logger[refused <= LOGGED_REFUSALS_PER_CONNECTION ? 'warn' : 'debug']({ clientId: clipForLog(client.id), user: clipForLog(user), topic: clipForLog(subscription.topic), why: refusal }, 'subscription refused')
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
        if (error) this.logger.warn({ err: error, clientId: clipForLog(client.id), topic: clipForLog(filter) }, 'could not subscribe to a narrowed topic')
      })
    }
    // Rewritten in place, as Aedes documents it: its retained-message read then looks up this topic too,
    // rather than every retained message under the filter.
    subscription.topic = first
    done(null, subscription)
  }

  private authorizeForward (...[client, packet]: Parameters<Hooks['authorizeForward']>): ReturnType<Hooks['authorizeForward']> {
    const user = this.users.get(client)
    if (user !== undefined && this.access.mayRead(user, packet.topic)) return packet
    return null
  }

  /**
   * The checks after the password: relay client ids, the Will, and the client id's owner. A user who holds a
   * persistent session or a Will under an id that has no owner yet becomes its owner.
   */
  private async admit (client: Client, user: string): Promise<AdmissionRefusal | undefined> {
    const will = willOf(client)
    if (will !== undefined && !this.access.mayPublish(user, will.topic)) {
      this.logger.warn({ clientId: clipForLog(client.id), user: clipForLog(user), topic: clipForLog(will.topic) }, 'Last Will on a topic the user may not publish to')
      return 'WILL_NOT_ALLOWED'
    }
    const admin = this.access.roleOf(user) === 'admin'
    if (!admin && !await this.mayUseEarlierRelayId(client.id, user)) return 'CLIENT_ID_RESERVED'
    const other = await this.live?.other(client)
    if (!admin && other?.user !== undefined && other.user !== user && !yieldsTo(other.user, user)) return 'CLIENT_ID_OWNED'
    this.live?.note(client, { user })
    let owner = client.clean && will === undefined
      ? await this.owners.holderOf(client.id)
      : await this.owners.claim(client.id, user)
    if (owner !== undefined && owner !== user && (this.access.roleOf(owner) === undefined || yieldsTo(owner, user))) {
      // Its owner is no longer in AUTH_FILE (credentials rotated to a new user), or is a token connection and
      // this is a user: the id passes to this one.
      this.logger.info({ clientId: clipForLog(client.id), from: clipForLog(owner), to: clipForLog(user) }, yieldsTo(owner, user) ? 'client id passes from a token connection to a user' : 'client id passes from a removed user')
      await this.owners.transfer(client.id, user)
      owner = user
    }
    if (!admin && owner !== undefined && owner !== user) return 'CLIENT_ID_OWNED'
    // An admin's clean session under another user's id ends that session: the id is free again.
    if (admin && client.clean && owner !== undefined && owner !== user) await this.owners.release(client.id, owner)
    return undefined
  }

  /**
   * An id of the earlier relay form (`printwire-relay-<relay>-<printer>`, ambiguous) only for the relay that now
   * holds one of the user's printers under its exact id (claims.ts): the id must read as that relay and printer.
   * Other ids pass.
   */
  private async mayUseEarlierRelayId (clientId: string, user: string): Promise<boolean> {
    if (!clientId.startsWith(LEGACY_RELAY_CLIENT_ID_PREFIX)) return true
    const printers = this.access.printersOf(user) ?? []
    for (const { relayId, printerId } of legacyRelayReadings(clientId)) {
      if (!printers.includes('*') && !printers.includes(printerId)) continue
      if (await this.relays.holderOf(printerId) === relayId) return true
    }
    return false
  }

  /**
   * A relay user reads a printer's jobs (and cancels) only as that printer's relay: under
   * `printwire-relay:<relay>:<printer>`, subscribing to exactly that printer's `jobs` or `cancel`, so that the
   * broker can give each printer to one relay (relayExclusivity.ts). Any other filter of a relay user that could
   * deliver jobs or cancels is refused.
   */
  private relayRequestsRefusal (client: Client, user: string, filter: string): string | undefined {
    const prefix = this.access.topicPrefix
    if (this.access.roleOf(user) !== 'relay') return undefined
    if (!filtersOverlap(filter, anyPrinterTopic(prefix, 'jobs')) && !filtersOverlap(filter, anyPrinterTopic(prefix, 'cancel'))) return undefined
    const relay = parseRelayClientId(client.id)
    if (relay === null) return 'a relay user reads jobs and cancels only under its relay client id (printwire-relay:<RELAY_ID>:<printer>)'
    const own = [jobsTopic(prefix, relay.printerId), cancelTopic(prefix, relay.printerId)]
    if (!own.includes(filter)) return `a relay reads only its own printer's jobs and cancel topics, ${own.join(' and ')}`
    return undefined
  }

  /** A Will published by a broker instance for a dead one: as its client id's owner, or not at all. */
  private authorizeOrphanWill (packet: PublishPacket, done: (error?: Error | null) => void): void {
    const clientId = (packet as PublishPacket & { clientId?: string }).clientId
    const refuse = (why: string): void => {
      this.logger.warn({ clientId: clipForLog(clientId), topic: clipForLog(packet.topic), why }, 'Last Will of a client of a dead broker instance refused')
      done(new PrintwireError('WILL_NOT_ALLOWED', `Last Will of ${clientId ?? '(no client id)'} refused: ${why}`))
    }
    if (clientId === undefined) return refuse('no client id')
    this.owners.holderOf(clientId).then((owner) => {
      if (owner === undefined) return refuse('its client id has no owner')
      if (!this.access.mayPublish(owner, packet.topic)) return refuse(`its owner ${owner} may not publish there`)
      done(null)
    }, (error: Error) => refuse(`owner unknown: ${error.message}`))
  }

  /**
   * Joins the broker: unsubscribing a filter that was subscribed as concrete topics unsubscribes those topics,
   * and log-ins see the connected clients.
   */
  attach (aedes: Aedes, live: LiveClients): void {
    this.aedes = aedes
    this.live = live
    // A token connection ends when its token does: it may log in again with a new one.
    aedes.on('client', (client) => {
      const expiresAt = this.expiries.get(client)
      if (expiresAt === undefined) return
      const timer = setTimeout(() => {
        this.logger.info({ clientId: clipForLog(client.id), user: clipForLog(this.users.get(client)) }, 'token expired: connection closed')
        client.close()
      }, Math.max(0, expiresAt - Date.now()))
      timer.unref()
      this.expiryTimers.set(client, timer)
    })
    aedes.on('clientDisconnect', (client) => clearTimeout(this.expiryTimers.get(client)))
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
    for (const client of Object.values(connectedClients(aedes))) {
      if (client === undefined) continue
      const user = this.users.get(client)
      // A token connection lasts as long as its issuer's rights: it logs in again under the new ones.
      if (user !== undefined && (changed.has(user) || changed.has(parseTokenPrincipal(user)?.issuer ?? ''))) {
        this.logger.info({ clientId: clipForLog(client.id), user }, 'user changed in AUTH_FILE: connection closed')
        client.close()
      }
    }
  }
}

/** Whether a token connection (`holder`) gives way to an AUTH_FILE user: tokens never lock users out of an id. */
function yieldsTo (holder: string, user: string): boolean {
  return isTokenPrincipal(holder) && !isTokenPrincipal(user)
}

/** The client's address: the broker hands Aedes each connection behind a PacketSizeGuard that carries it. */
function remoteAddressOf (client: Client): string | undefined {
  return (client.conn as { remoteAddress?: string }).remoteAddress
}
