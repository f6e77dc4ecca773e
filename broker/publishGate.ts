/**
 * What happens to a PUBLISH before the broker acknowledges it, in Aedes' `authorizePublish` (the only hook
 * that runs before the PUBACK and can wait):
 * 1. Access (accessHooks.ts, with AUTH_FILE): a refused publish closes the connection; a refused Will of a dead
 *    broker instance is dropped (Aedes is told it was published, so it deletes it).
 * 2. A retained job is refused: a retained message is sent again to every new subscriber, so every new relay
 *    session would print it again. It is acknowledged and dropped, and the printer's `errors` topic says why
 *    (INVALID_JOB, with the job's id when it has one), so the publisher is told and does not resend it.
 * 3. No relay (SPEC "No relay, cancel"): a job whose topic no relay session subscribes to, live or away, would be
 *    delivered to nobody; it is acknowledged, dropped and answered NO_RELAY on `errors` (see `relayServes`).
 * 4. Queue limits (jobQueueLimits.ts): a job that would take its printer's relay session over MAX_QUEUED_JOBS or
 *    MAX_QUEUED_BYTES at the broker is acknowledged, dropped and answered QUEUE_FULL on `errors`.
 * 5. Durability (durablePublish.ts): a QoS 1 message is stored for every session it matches before the PUBACK.
 */
import type { Aedes, Client, PublishPacket } from 'aedes'
import { ERROR_CODES, errorsTopic, legacyRelayReadings, parseRelayClientId, peekJobId, type JobErrorMessage } from '../protocol/index.ts'
import { clipForLog } from '../runtime/logText.ts'
import { isClosing, persistenceOf } from './aedes/internals.ts'
import type { Logger } from '../runtime/logger.ts'
import type { DurablePublish } from './aedes/durablePublish.ts'
import { payloadBytes, type JobQueueLimits } from './jobQueueLimits.ts'

type Done = (error?: Error | null) => void
export type AuthorizePublish = (client: Client | null, packet: PublishPacket, done: Done) => void

export interface PublishGateDeps {
  aedes: Aedes
  durable: DurablePublish
  limits: JobQueueLimits
  /** Access control; undefined without AUTH_FILE (every publish allowed, on loopback only). */
  authorize: AuthorizePublish | undefined
  topicPrefix: string
  logger: Logger
}

export class PublishGate {
  private readonly deps: PublishGateDeps

  constructor (deps: PublishGateDeps) {
    this.deps = deps
  }

  start (): void {
    this.deps.aedes.authorizePublish = (client, packet, done) => this.check(client, packet, done)
  }

  private check (client: Client | null, packet: PublishPacket, done: Done): void {
    const { durable, authorize } = this.deps
    const allowed = (error?: Error | null): void => {
      if (error) {
        if (client !== null) return done(error)
        // A Will that a broker instance publishes for a dead one: refused means never published.
        durable.drop(packet)
        return done(null)
      }
      if (packet.retain && this.refuseRetainedJob(client, packet)) return done(null)
      if (client === null) return done(null)
      this.admit(client, packet).then(() => done(null), done)
    }
    if (authorize === undefined) allowed(null)
    else authorize(client, packet, allowed)
  }

  /**
   * An allowed publish from a client: a job is refused NO_RELAY when no relay session subscribes to its topic,
   * counted against its printer's queue otherwise (QoS 1 and 2), then stored.
   */
  private async admit (client: Client, packet: PublishPacket): Promise<void> {
    const { durable, limits, logger } = this.deps
    const job = limits.printerOfJob(packet.topic)
    // A QoS 2 PUBLISH sent again (its first copy is stored, waiting for PUBREL) is published once by Aedes: neither
    // answered nor counted again.
    const printerId = job !== undefined && !await this.isQos2Repeat(client, packet) ? job : undefined
    if (printerId !== undefined && !await this.relayServes(packet.topic, printerId)) {
      logger.warn({ clientId: clipForLog(client.id), printerId, jobId: peekJobId(asBuffer(packet.payload)) }, 'job refused: no relay serves its printer')
      this.refuseJob(packet, printerId, 'NO_RELAY', `no relay serves printer ${printerId} (no relay session subscribes to ${packet.topic}): the job was not kept; start the printer's relay, then send it again`)
      return
    }
    const counting = packet.qos > 0 ? printerId : undefined
    const bytes = payloadBytes(packet.payload)
    let counted = false
    try {
      if (counting !== undefined) {
        // Counted before the store, so that jobs arriving together do not all fit.
        const refusal = await limits.reserve(counting, bytes)
        if (refusal !== undefined) {
          logger.warn({ clientId: clipForLog(client.id), printerId: counting, bytes }, 'job refused: its printer\'s queue at the broker is full')
          this.refuseJob(packet, counting, 'QUEUE_FULL', `not queued: ${refusal}; the relay is away or slow: send it again later`)
          return
        }
        counted = true
      }
      // (QoS 2 is stored by Aedes itself before its PUBREC, after this.)
      await durable.storeBeforeAck(client, packet)
    } catch (storeError) {
      if (counted && counting !== undefined) await limits.giveBack(counting, bytes).catch(() => {})
      // (While the broker stops, its clients' Last Wills fail like this by the thousand: not worth an error each.)
      logger[isClosing(this.deps.aedes) ? 'debug' : 'error']({ err: storeError, clientId: clipForLog(client.id), topic: clipForLog(packet.topic) }, 'could not store a publish: not acknowledged, connection closed (the client sends it again)')
      throw storeError
    }
    if (counting === undefined) return
    // Stored (a relay session subscribed just before): it counts until the relay takes it.
    await limits.stored(counting, bytes).catch((error: unknown) => logger.warn({ err: error, printerId: counting }, 'could not update the count of a printer\'s queue'))
  }

  private async isQos2Repeat (client: Client, packet: PublishPacket): Promise<boolean> {
    if (packet.qos !== 2) return false
    return await persistenceOf(this.deps.aedes).incomingGetPacket(client, packet).then(() => true, () => false)
  }

  /**
   * Whether a relay session of `printerId`, live or away, subscribes to the job's topic: the broker's stored
   * subscriptions, the very ones Aedes queues the job by, so a job let through here is queued for that session.
   * Only relay sessions count (`printwire-relay:<relay>:<printer>`, or the earlier `printwire-relay-…` form of a
   * relay not yet upgraded): an admin or a tool subscribed to `#` prints nothing. A clean session's
   * subscriptions are not stored, and a relay subscribes only after its CONNACK: a job published while a new
   * relay session is being made is refused NO_RELAY (told, never lost silently).
   */
  private async relayServes (topic: string, printerId: string): Promise<boolean> {
    const subs = await persistenceOf(this.deps.aedes).subscriptionsByTopic(topic)
    return subs.some((sub) => parseRelayClientId(sub.clientId)?.printerId === printerId ||
      legacyRelayReadings(sub.clientId).some((reading) => reading.printerId === printerId))
  }

  /**
   * True when `packet` is a retained job: dropped, and answered on the printer's `errors` topic. An empty one
   * clears a retained job stored before (by an earlier version), and is not delivered.
   */
  private refuseRetainedJob (client: Client | null, packet: PublishPacket): boolean {
    const { aedes, durable, limits, logger } = this.deps
    const printerId = limits.printerOfJob(packet.topic)
    if (printerId === undefined) return false
    if (payloadBytes(packet.payload) === 0) {
      durable.drop(packet)
      persistenceOf(aedes).storeRetained(packet).then(
        () => logger.info({ clientId: clipForLog(client?.id), printerId }, 'retained job cleared'),
        (error: unknown) => logger.error({ err: error, printerId }, 'could not clear a retained job')
      )
      return true
    }
    logger.warn({ clientId: clipForLog(client?.id), printerId }, 'retained job refused')
    this.refuseJob(packet, printerId, 'INVALID_JOB', 'a job must not be retained (every new relay session would print it again): publish it without the retain flag')
    return true
  }

  /** Drops a job (Aedes acknowledges it and publishes nothing) and answers it on its printer's `errors` topic. */
  private refuseJob (packet: PublishPacket, printerId: string, code: 'INVALID_JOB' | 'QUEUE_FULL' | 'NO_RELAY', message: string): void {
    const { aedes, durable, topicPrefix, logger } = this.deps
    durable.drop(packet)
    const jobId = peekJobId(asBuffer(packet.payload))
    const error: JobErrorMessage = {
      ...(jobId === undefined ? {} : { jobId }),
      printerId,
      code,
      message,
      retryable: ERROR_CODES[code].retryable,
      at: new Date().toISOString()
    }
    aedes.publish({ cmd: 'publish', topic: errorsTopic(topicPrefix, printerId), payload: Buffer.from(JSON.stringify(error)), qos: 1, retain: false, dup: false }, (publishError?: Error) => {
      if (publishError) logger.error({ err: publishError, printerId, code }, 'could not publish the refusal of a job')
    })
  }
}

function asBuffer (payload: PublishPacket['payload']): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload) : payload
}
