/**
 * One relay per printer (issue #10, finding 4): two relays serving one printer print every job twice, and two
 * relay processes with the same RELAY_ID knock each other off the broker in turn. The broker stops both:
 * - A relay's connection is refused (CONNACK 2, identifier rejected) while another process is connected under
 *   the same relay client id, to this broker instance or another one on the same Redis (liveClients.ts). A relay names its process in its Last Will (`instance`, a random id per start),
 *   so the same process reconnecting (a connection the broker has not yet seen die) still takes its session over.
 * - A relay's SUBSCRIBE to its printer's `jobs` claims the printer for its RELAY_ID (claims.ts: atomic, in the
 *   broker's store, shared by broker instances on one Redis), and is refused (SUBACK 0x80) while another relay
 *   holds it, connected or not: that relay's session queues the jobs too. The relay refused says so in its log
 *   and in the printer's status, and prints nothing. The claim is released when the holder's session ends (a
 *   clean connection under its id): to move a printer to another relay, stop the old one and end its session
 *   (README "One relay per printer"). Relay users may read jobs only this way (accessHooks.ts).
 * - A relay's SUBSCRIBE to its printer's `cancel` is refused while another relay holds the printer (it claims
 *   nothing): a relay standing down must not answer cancels of jobs another relay prints.
 * Clients that are not relays (not `printwire-relay:` ids) are not concerned.
 */
import type { Aedes, AuthenticateError, Client, Subscription } from 'aedes'
import { parsePrinterTopic, parseRelayClientId, RELAY_CONFLICT_TOPIC, relayClientId } from '../protocol/index.ts'
import { clipForLog } from '../runtime/logText.ts'
import type { Logger } from '../runtime/logger.ts'
import type { Claims } from './claims.ts'
import { connectedClients, messageBusOf, willOf } from './aedes/internals.ts'
import type { LiveClients } from './liveClients.ts'

const IDENTIFIER_REJECTED = 2
const SERVER_UNAVAILABLE = 3

type Authenticate = Aedes['authenticate']
type AuthorizeSubscribe = Aedes['authorizeSubscribe']

/** The `instance` a relay names in its Will (its status `offline`), if any. */
function instanceOf (client: Client): string | undefined {
  const packet = willOf(client)
  if (packet === undefined) return undefined
  try {
    const parsed = JSON.parse(Buffer.from(packet.payload as Buffer).toString('utf8')) as { instance?: unknown }
    return typeof parsed.instance === 'string' ? parsed.instance : undefined
  } catch {
    return undefined
  }
}

export interface RelayExclusivityDeps {
  aedes: Aedes
  /** Which relay serves each printer. */
  relays: Claims
  /** Who is connected, on every broker instance. */
  live: LiveClients
  topicPrefix: string
  logger: Logger
}

export class RelayExclusivity {
  private readonly deps: RelayExclusivityDeps

  constructor (deps: RelayExclusivityDeps) {
    this.deps = deps
  }

  /** Runs after the broker's own checks (log-in, access), on the same hooks. */
  start (): void {
    const { aedes } = this.deps
    // A refusal is told on the message bus, which every broker process on one Redis shares: the process the
    // relay is connected to tells it (Aedes keeps `$` topics from `#` and `+/…` subscribers).
    messageBusOf(aedes).on(RELAY_CONFLICT_TOPIC, (packet, done) => {
      try {
        const { clientId } = JSON.parse(String(packet.payload)) as { clientId?: unknown }
        if (typeof clientId === 'string') this.tellConnected(clientId)
      } catch { /* not ours */ }
      done()
    })
    const authenticate: Authenticate = aedes.authenticate.bind(aedes)
    const authorizeSubscribe: AuthorizeSubscribe = aedes.authorizeSubscribe.bind(aedes)
    aedes.authenticate = (client, username, password, done) => authenticate(client, username, password, (error, ok) => {
      if (error || !ok) return done(error, ok)
      this.admit(client).then((other) => {
        if (other === undefined) return done(null, true)
        this.deps.logger.warn({ clientId: clipForLog(client.id), instance: clipForLog(instanceOf(client)), connected: clipForLog(other) }, 'relay refused: another relay process is connected with the same client id (the same RELAY_ID)')
        messageBusOf(this.deps.aedes).emit({ topic: RELAY_CONFLICT_TOPIC, payload: Buffer.from(JSON.stringify({ clientId: client.id })) }, (error) => {
          if (error) this.deps.logger.debug({ err: error, clientId: clipForLog(client.id) }, 'could not tell the broker processes of the conflict')
        })
        done(Object.assign(new Error('another relay process is connected with this client id'), { returnCode: IDENTIFIER_REJECTED }) as AuthenticateError, false)
      }, (admitError: Error) => done(Object.assign(admitError, { returnCode: SERVER_UNAVAILABLE }) as AuthenticateError, false))
    })
    aedes.authorizeSubscribe = (client, subscription, done) => authorizeSubscribe(client, subscription, (error, granted) => {
      if (error || granted === null || granted === undefined) return done(error, granted)
      this.holder(client, granted).then((holder) => {
        if (holder === undefined) return done(null, granted)
        this.deps.logger.warn({ clientId: clipForLog(client.id), topic: granted.topic, holder }, 'relay subscription refused: another relay serves this printer')
        done(null, null)
      }, (lookupError: Error) => done(lookupError, null))
    })
  }

  /**
   * Tells the relay connected under `clientId` to this broker process, if any, that another process tried its
   * client id: it says so in its own log, naming RELAY_ID, as the refused one does.
   */
  private tellConnected (clientId: string): void {
    const connected = connectedClients(this.deps.aedes)[clientId]
    if (connected === undefined) return
    const payload = Buffer.from(JSON.stringify({ clientId, at: new Date().toISOString() }))
    connected.publish({ cmd: 'publish', topic: RELAY_CONFLICT_TOPIC, payload, qos: 0, retain: false, dup: false }, (error) => {
      if (error) this.deps.logger.debug({ err: error, clientId: clipForLog(clientId) }, 'could not tell the connected relay of the conflict')
    })
  }

  /**
   * For a relay's log-in: the instance of another process connected under its client id (on any broker
   * instance), if any. Otherwise the log-in goes ahead; a clean one ends the relay's session, and with it the
   * relay's claim on the printer.
   */
  private async admit (client: Client): Promise<string | undefined> {
    const relay = parseRelayClientId(client.id)
    if (relay === null) return undefined
    const ours = instanceOf(client)
    if (ours !== undefined) this.deps.live.note(client, { instance: ours })
    const theirs = (await this.deps.live.other(client))?.instance
    // Relays that name no instance (earlier versions) keep MQTT's take-over.
    if (theirs !== undefined && ours !== undefined && theirs !== ours) return theirs
    if (client.clean) await this.deps.relays.release(relay.printerId, relay.relayId)
    return undefined
  }

  /** For a relay subscribing to its printer's jobs (claimed) or cancels: the relay that holds the printer, if not this one. */
  private async holder (client: Client, subscription: Subscription): Promise<string | undefined> {
    const relay = parseRelayClientId(client.id)
    const topic = parsePrinterTopic(this.deps.topicPrefix, subscription.topic)
    if (relay === null || topic === null || topic.printerId !== relay.printerId) return undefined
    if (topic.kind !== 'jobs' && topic.kind !== 'cancel') return undefined
    const holder = topic.kind === 'jobs'
      ? await this.deps.relays.claim(relay.printerId, relay.relayId)
      : await this.deps.relays.holderOf(relay.printerId) ?? relay.relayId
    return holder === relay.relayId ? undefined : relayClientId(holder, relay.printerId)
  }
}
