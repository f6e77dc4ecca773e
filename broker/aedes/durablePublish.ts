/**
 * A QoS 1 PUBACK from this broker means the message is stored for every persistent session it matches.
 *
 * Aedes 1.2 acknowledges a client's QoS 1 PUBLISH first and stores it after (lib/handlers/publish.js, `case 1`:
 * write the PUBACK, then `broker.publish`), so a broker killed in between loses messages it acknowledged
 * (README, "Delivery: printed once, or told why not"). Aedes' only hook that runs before the PUBACK and
 * can wait is `authorizePublish`: once a publish is allowed, `storeBeforeAck` runs the whole of Aedes' publish
 * there (retained store, queue for every matching persistent session, emit to live subscribers) and calls back
 * only when it is done; Aedes then writes the PUBACK and calls `publish` again with the same packet, which is
 * recognised and answered at once. A publish that fails to store (Redis down, disk full) is not acknowledged:
 * the connection is closed, and the client sends it again when it reconnects.
 *
 * Back-pressure: Aedes reads a connection's next bytes only once every packet of the previous read has called
 * back, so a client has at most one read's worth of publishes waiting here, and the rest waits in its socket.
 *
 * Stores run concurrently; emitOrder.ts keeps the messages emitted in the order Aedes numbered them.
 */
import type { Aedes, AedesPublishPacket, Client, PublishPacket } from 'aedes'
import type { Logger } from '../../runtime/logger.ts'
import { EmitOrder } from './emitOrder.ts'

type Done = (error?: Error | null) => void

export interface DurablePublishDeps {
  aedes: Aedes
  logger: Logger
}

export class DurablePublish {
  private readonly aedes: Aedes
  readonly order: EmitOrder
  /** Packets already published (and stored) before their PUBACK: Aedes' own publish call after it is skipped. */
  private readonly stored = new WeakSet<object>()
  /** Packets not to publish at all (a Will refused after a broker restart): Aedes is told they were. */
  private readonly dropped = new WeakSet<object>()
  private publish: ((packet: PublishPacket, client: Client | null, done: Done) => void) | undefined

  constructor (deps: DurablePublishDeps) {
    this.aedes = deps.aedes
    this.order = new EmitOrder({ aedes: deps.aedes, logger: deps.logger })
  }

  start (): void {
    this.order.start()
    const aedes = this.aedes
    const original = aedes.publish.bind(aedes) as unknown as (packet: PublishPacket, client: Client | null, done: Done) => void
    this.publish = original
    aedes.publish = ((packet: PublishPacket, client?: Client | Done | null, done?: Done) => {
      const callback = typeof client === 'function' ? client : done
      const sender = typeof client === 'function' ? null : client ?? null
      if (this.stored.has(packet) || this.dropped.has(packet)) {
        // Published already, before the PUBACK Aedes has just written; or not to be published.
        this.stored.delete(packet)
        callback?.(null)
        return
      }
      this.run(packet, sender, callback ?? (() => {}))
    }) as Aedes['publish']
  }

  stop (): void {
    this.order.stop()
  }

  /** Aedes will be told `packet` was published, and it is not (see accessHooks.ts, Wills of a dead broker). */
  drop (packet: object): void {
    this.dropped.add(packet)
  }

  /**
   * For an allowed PUBLISH from a client, before Aedes acknowledges it: QoS 1 is published (stored and
   * emitted) now, and resolves once it is; QoS 0 needs no store and resolves at once.
   */
  storeBeforeAck (client: Client, packet: PublishPacket): Promise<void> {
    if (packet.qos !== 1) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.run(packet, client, (error) => {
        if (error) return reject(error)
        this.stored.add(packet)
        resolve()
      })
    })
  }

  private run (packet: PublishPacket | AedesPublishPacket, client: Client | null, done: Done): void {
    const publish = this.publish
    if (publish === undefined) throw new Error('DurablePublish not started')
    let counter: number | undefined
    let failedAtOnce = false
    counter = this.order.numbered(() => publish(packet as PublishPacket, client, (error?: Error | null) => {
      if (error) {
        if (counter === undefined) failedAtOnce = true
        else this.order.failed(counter)
      }
      done(error)
    }))
    if (failedAtOnce && counter !== undefined) this.order.failed(counter)
  }
}
