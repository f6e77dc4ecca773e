/**
 * One MQTT connection logged in with a browser token through the web server's token gateway (tokenGateway.ts),
 * in Mosquitto mode: Mosquitto cannot check a token, so the gateway logs in to it as the web server's own user
 * (an admin) and lets through only what the token grants, as the embedded broker's access hooks do
 * (broker/accessHooks.ts), from the same grants (access/policy.ts, looked up by the token's principal):
 * - PUBLISH to a topic the token may not publish to closes the connection (the embedded broker does the same);
 * - SUBSCRIBE: each filter that can deliver nothing the token may read is refused (0x80 in the SUBACK), the rest go
 *   to the broker at QoS 1 at most (Printwire's QoS), a wildcard one narrowed to the token's own topics (`#` is
 *   its printers' topics: never every printer's, kept by Mosquitto for a persistent session), as the embedded
 *   broker does; UNSUBSCRIBE likewise; a subscription with none left is answered here;
 * - every message the broker delivers is checked again against the token's read grants (a wildcard filter can
 *   match more than the token may read): one it may not read is dropped (and acknowledged to the broker);
 * - the connection closes when the token expires, or when its issuer's entry in AUTH_FILE changes; a Will the token
 *   may no longer publish then is discarded.
 * Packets are parsed and written again (mqtt-packet), both ways.
 */
import type { Duplex } from 'node:stream'
import { generate, parser as packetParser, type IConnectPacket, type ISubackPacket, type ISubscribePacket, type IUnsubscribePacket, type Packet } from 'mqtt-packet'
import type { AccessControl } from '../../access/accessControl.ts'
import type { Logger } from '../../runtime/logger.ts'
import { clipForLog } from '../../runtime/logText.ts'

/** How long the broker has to close a connection the gateway ended with a DISCONNECT. */
const DISCONNECT_GRACE_MS = 2000
/** SUBACK return code of a refused subscription (MQTT 3.1.1). */
const SUBACK_FAILURE = 0x80

/** Per filter of a page's SUBSCRIBE: refused here (its code), or sent to the broker as `entries` filters. */
type SubscriptionPlan = Array<{ code: number } | { entries: number }>

export interface TokenSessionDeps {
  access: AccessControl
  /** `token:<issuer>:<printers>` (access/tokens.ts tokenPrincipal). */
  principal: string
  /** When the token expires (Unix ms). */
  expiresAt: number
  /** The page's side, and the broker's side (not yet sent anything). */
  downstream: Duplex
  upstream: Duplex
  /** The CONNECT to send the broker (the gateway's log-in and client id). */
  connect: IConnectPacket
  logger: Logger
  /** Told once, when either side is closed. */
  onEnd: () => void
}

export class TokenSession {
  private readonly deps: TokenSessionDeps
  private readonly logger: Logger
  /** Subscriptions sent to the broker other than as asked (filters refused here, or narrowed): per message id, each filter's plan. */
  private readonly partialSubscriptions = new Map<number, SubscriptionPlan>()
  private expiry: NodeJS.Timeout | undefined
  private ended = false

  constructor (deps: TokenSessionDeps) {
    this.deps = deps
    this.logger = deps.logger.child({ user: clipForLog(deps.principal), clientId: clipForLog(deps.connect.clientId) })
  }

  get principal (): string {
    return this.deps.principal
  }

  /** Starts: the CONNECT goes to the broker; the page's packets come through `fromPage`, in order. */
  start (): void {
    const { downstream, upstream, expiresAt } = this.deps
    upstream.on('error', (error) => { this.logger.warn({ err: error }, 'token gateway: cannot reach the broker'); this.end() })
    // (A WebSocket stream emits no 'close' of its own when its peer closes: 'end' says it.)
    for (const side of [upstream, downstream]) {
      side.on('end', () => this.end())
      side.on('close', () => this.end())
    }
    this.expiry = setTimeout(() => {
      this.logger.info('token expired: connection closed')
      this.end()
    }, Math.max(0, expiresAt - Date.now()))
    this.expiry.unref()
    const fromBroker = packetParser({ protocolVersion: 4 })
    fromBroker.on('packet', (packet: Packet) => this.fromBroker(packet))
    fromBroker.on('error', (error: Error) => { this.logger.warn({ err: error }, 'token gateway: the broker sent a malformed packet'); this.end() })
    upstream.on('data', (chunk: Buffer) => fromBroker.parse(chunk))
    this.toBroker(this.deps.connect)
  }

  /**
   * Closes both sides (once). A Will the token may no longer publish (its issuer lost the printer, or left
   * AUTH_FILE) is discarded with a DISCONNECT to the broker first: Mosquitto would otherwise publish it as the
   * gateway's admin, where the embedded broker checks a Will again when it is published (broker/accessHooks.ts).
   */
  end (): void {
    if (this.ended) return
    this.ended = true
    clearTimeout(this.expiry)
    const { downstream, upstream, connect, access, principal } = this.deps
    downstream.destroy()
    const will = connect.will
    if (will !== undefined && will !== null && !access.mayPublish(principal, will.topic) && upstream.writable) {
      this.logger.info({ topic: clipForLog(will.topic) }, 'Last Will the token may no longer publish: discarded')
      upstream.end(generate({ cmd: 'disconnect' }))
      setTimeout(() => upstream.destroy(), DISCONNECT_GRACE_MS).unref()
    } else {
      upstream.destroy()
    }
    this.deps.onEnd()
  }

  private toBroker (packet: Packet): void {
    if (!this.ended) this.deps.upstream.write(generate(packet))
  }

  private toPage (packet: Packet): void {
    if (!this.ended) this.deps.downstream.write(generate(packet))
  }

  /** A packet the page sent, after its CONNECT. */
  fromPage (packet: Packet): void {
    const { access, principal } = this.deps
    switch (packet.cmd) {
      case 'publish':
        if (!access.mayPublish(principal, packet.topic)) {
          this.logger.warn({ topic: clipForLog(packet.topic) }, 'publish refused: connection closed')
          this.end()
          return
        }
        this.toBroker(packet)
        return
      case 'subscribe':
        this.subscribe(packet)
        return
      case 'unsubscribe':
        this.unsubscribe(packet)
        return
      case 'connect':
        this.logger.info('a second CONNECT on a connection: closed')
        this.end()
        return
      default:
        // PUBACK, PUBREC, PUBREL, PUBCOMP, PINGREQ, DISCONNECT: nothing to grant.
        this.toBroker(packet)
    }
  }

  private subscribe (packet: ISubscribePacket): void {
    const { access, principal } = this.deps
    const plan: SubscriptionPlan = []
    const allowed: ISubscribePacket['subscriptions'] = []
    for (const subscription of packet.subscriptions) {
      if (access.maySubscribe(principal, subscription.topic)) {
        const topics = this.brokerFilters(subscription.topic)
        plan.push({ entries: topics.length })
        for (const topic of topics) allowed.push({ ...subscription, topic, qos: Math.min(subscription.qos, 1) as 0 | 1 })
      } else {
        plan.push({ code: SUBACK_FAILURE })
        this.logger.info({ filter: clipForLog(subscription.topic) }, 'subscription refused')
      }
    }
    const messageId = packet.messageId ?? 0
    if (allowed.length === 0) {
      this.toPage({ cmd: 'suback', messageId, granted: plan.map(() => SUBACK_FAILURE) })
      return
    }
    if (plan.some((step) => !('entries' in step) || step.entries !== 1)) this.partialSubscriptions.set(messageId, plan)
    this.toBroker({ ...packet, subscriptions: allowed })
  }

  /** UNSUBSCRIBE of a filter that was narrowed: the topics it was narrowed to. */
  private unsubscribe (packet: IUnsubscribePacket): void {
    this.toBroker({ ...packet, unsubscriptions: [...new Set(packet.unsubscriptions.flatMap((filter) => this.brokerFilters(filter)))] })
  }

  /**
   * What a filter is subscribed as at the broker: a wildcard filter that can deliver only concrete topics to this
   * token (its own printers' topics) is narrowed to those topics, as the embedded broker does (accessHooks.ts):
   * the gateway logs in as an admin, so `#` sent on would make Mosquitto send it, and keep for a persistent
   * session (for days, up to max_queued_bytes), every message of every printer, only for the gateway to drop them.
   */
  private brokerFilters (filter: string): string[] {
    return this.deps.access.readableTopicsOf(this.deps.principal, filter) ?? [filter]
  }

  private fromBroker (packet: Packet): void {
    const { access, principal } = this.deps
    if (packet.cmd === 'publish' && !access.mayRead(principal, packet.topic)) {
      this.logger.debug({ topic: clipForLog(packet.topic) }, 'delivery the token may not read: dropped')
      if (packet.qos === 1 && packet.messageId !== undefined) this.toBroker({ cmd: 'puback', messageId: packet.messageId })
      return
    }
    if (packet.cmd === 'suback') {
      this.toPage(this.mergedSuback(packet))
      return
    }
    this.toPage(packet)
  }

  /** The broker's SUBACK for the filters it was sent, put back in the page's filters' places (refused here, or narrowed). */
  private mergedSuback (packet: ISubackPacket): ISubackPacket {
    const messageId = packet.messageId ?? 0
    const plan = this.partialSubscriptions.get(messageId)
    if (plan === undefined) return packet
    this.partialSubscriptions.delete(messageId)
    const fromBroker = [...packet.granted] as number[]
    const granted = plan.map((step) => {
      if ('code' in step) return step.code
      const codes = fromBroker.splice(0, step.entries)
      return codes.find((code) => code !== SUBACK_FAILURE) ?? SUBACK_FAILURE
    })
    return { ...packet, granted }
  }
}
