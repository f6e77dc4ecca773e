/**
 * One relay per printer (issue #10, finding 4): two relays serving one printer print every job twice, and two
 * relay processes with the same RELAY_ID knock each other off the broker in turn. The broker stops both:
 * - A relay's connection is refused (CONNACK 2, identifier rejected) while another process is connected under
 *   the same relay client id. A relay names its process in its Last Will (`instance`, a random id per start),
 *   so the same process reconnecting (a connection the broker has not yet seen die) still takes its session over.
 * - A relay's SUBSCRIBE to a printer's `jobs` is refused (SUBACK 0x80) while another relay (another RELAY_ID)
 *   holds a persistent session subscribed to it, connected or not: that session's queued jobs would print
 *   there too. The relay refused says so in its log and in the printer's status, and prints nothing. To move
 *   a printer to another relay, stop the old one and end its session (README "Moving a printer").
 * Clients that are not relays (not `printwire-relay:` ids) are not concerned.
 */
import type { Aedes, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes'
import { parsePrinterTopic, parseRelayClientId } from '../protocol/index.ts'
import { clipForLog } from '../runtime/logText.ts'
import type { Logger } from '../runtime/logger.ts'

const IDENTIFIER_REJECTED = 2

type Authenticate = Aedes['authenticate']
type AuthorizeSubscribe = Aedes['authorizeSubscribe']

/** The `instance` a relay names in its Will (its status `offline`), if any. */
function instanceOf (client: Client): string | undefined {
  const will = (client as unknown as { _will?: PublishPacket | null, will?: PublishPacket | null })
  const packet = will._will ?? will.will
  if (packet === null || packet === undefined) return undefined
  try {
    const parsed = JSON.parse(Buffer.from(packet.payload as Buffer).toString('utf8')) as { instance?: unknown }
    return typeof parsed.instance === 'string' ? parsed.instance : undefined
  } catch {
    return undefined
  }
}

export interface RelayExclusivityDeps {
  aedes: Aedes
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
    const authenticate: Authenticate = aedes.authenticate.bind(aedes)
    const authorizeSubscribe: AuthorizeSubscribe = aedes.authorizeSubscribe.bind(aedes)
    aedes.authenticate = (client, username, password, done) => authenticate(client, username, password, (error, ok) => {
      if (error || !ok) return done(error, ok)
      const other = this.otherProcess(client)
      if (other === undefined) return done(null, true)
      this.deps.logger.warn({ clientId: clipForLog(client.id), instance: clipForLog(instanceOf(client)), connected: clipForLog(other) }, 'relay refused: another relay process is connected with the same client id (the same RELAY_ID)')
      done(Object.assign(new Error('another relay process is connected with this client id'), { returnCode: IDENTIFIER_REJECTED }) as AuthenticateError, false)
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

  /** The instance of another process connected under `client`'s relay client id, if any. */
  private otherProcess (client: Client): string | undefined {
    if (parseRelayClientId(client.id) === null) return undefined
    const clients = (this.deps.aedes as unknown as { clients: Record<string, Client | undefined> }).clients
    const live = clients[client.id]
    if (live === undefined || live === client || live.closed) return undefined
    const theirs = instanceOf(live)
    const ours = instanceOf(client)
    // Relays that name no instance (earlier versions) keep MQTT's take-over.
    if (theirs === undefined || ours === undefined || theirs === ours) return undefined
    return theirs
  }

  /** For a relay subscribing to its printer's jobs: the client id of another relay's session on them, if any. */
  private async holder (client: Client, subscription: Subscription): Promise<string | undefined> {
    const relay = parseRelayClientId(client.id)
    const topic = parsePrinterTopic(this.deps.topicPrefix, subscription.topic)
    if (relay === null || topic === null || topic.kind !== 'jobs') return undefined
    const persistence = (this.deps.aedes as unknown as { persistence: { subscriptionsByTopic(topic: string): Promise<Array<{ clientId: string }>> } }).persistence
    const subs = await persistence.subscriptionsByTopic(subscription.topic)
    for (const sub of subs) {
      const other = parseRelayClientId(sub.clientId)
      if (other !== null && other.printerId === topic.printerId && other.relayId !== relay.relayId) return sub.clientId
    }
    return undefined
  }
}
