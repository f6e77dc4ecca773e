/**
 * What happens to a PUBLISH before the broker acknowledges it, in Aedes' `authorizePublish` (the only hook
 * that runs before the PUBACK and can wait):
 * 1. Access (accessHooks.ts, with AUTH_FILE): a refused publish closes the connection; a refused Will of a dead
 *    broker instance is dropped (Aedes is told it was published, so it deletes it).
 * 2. A retained job is refused: a retained message is sent again to every new subscriber, so every new relay
 *    session would print it again. It is acknowledged and dropped, and the printer's `errors` topic says why
 *    (INVALID_JOB, with the job's id when it has one), so the publisher is told and does not resend it.
 * 3. Queue limits (jobQueueLimits.ts): a job that would take its printer's relay session over MAX_QUEUED_JOBS or
 *    MAX_QUEUED_BYTES at the broker is acknowledged, dropped and answered QUEUE_FULL on `errors`.
 * 4. Durability (durablePublish.ts): a QoS 1 message is stored for every session it matches before the PUBACK.
 */
import type { Aedes, Client, PublishPacket } from 'aedes'
import { ERROR_CODES, errorsTopic, parseRelayClientId, peekJobId, type JobErrorMessage } from '../protocol/index.ts'
import { clipForLog } from '../runtime/logText.ts'
import type { Logger } from '../runtime/logger.ts'
import type { DurablePublish } from './durablePublish.ts'
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
    const { durable, authorize, logger } = this.deps
    const allowed = (error?: Error | null): void => {
      if (error) {
        if (client !== null) return done(error)
        // A Will that a broker instance publishes for a dead one: refused means never published.
        durable.drop(packet)
        return done(null)
      }
      if (packet.retain && this.refuseRetainedJob(client, packet)) return done(null)
      if (client === null) return done(null)
      const job = this.reserve(client, packet)
      if (job === null) return done(null)
      durable.storeBeforeAck(client, packet).then(async () => {
        if (job !== undefined && !await this.hasRelaySession(packet.topic, job.printerId)) this.deps.limits.add(job.printerId, -job.bytes, -1)
        done(null)
      }, (storeError: Error) => {
        if (job !== undefined) this.deps.limits.add(job.printerId, -job.bytes, -1)
        logger.error({ err: storeError, clientId: clipForLog(client.id), topic: clipForLog(packet.topic) }, 'could not store a publish: not acknowledged, connection closed (the client sends it again)')
        done(storeError)
      })
    }
    if (authorize === undefined) allowed(null)
    else authorize(client, packet, allowed)
  }

  /**
   * For a job: its place in its printer's queue, taken before the store so that jobs arriving together do not all
   * fit (undefined for other topics); null when it does not fit: then dropped and answered QUEUE_FULL.
   */
  private reserve (client: Client, packet: PublishPacket): { printerId: string, bytes: number } | undefined | null {
    const { limits, logger } = this.deps
    const printerId = limits.printerOfJob(packet.topic)
    if (printerId === undefined || packet.qos !== 1) return undefined
    const bytes = payloadBytes(packet.payload)
    const reason = limits.refusal(printerId, bytes)
    if (reason === undefined) {
      limits.add(printerId, bytes)
      return { printerId, bytes }
    }
    logger.warn({ clientId: clipForLog(client.id), printerId, bytes, queued: limits.queued(printerId) }, 'job refused: its printer\'s queue at the broker is full')
    this.refuseJob(packet, printerId, 'QUEUE_FULL', `not queued: ${reason}; the relay is away or slow: send it again later`)
    return null
  }

  /** Whether a relay session of `printerId` subscribes to the job's topic (otherwise nothing was queued). */
  private async hasRelaySession (topic: string, printerId: string): Promise<boolean> {
    const persistence = (this.deps.aedes as unknown as { persistence: { subscriptionsByTopic(topic: string): Promise<Array<{ clientId: string }>> } }).persistence
    const subs = await persistence.subscriptionsByTopic(topic)
    return subs.some((sub) => parseRelayClientId(sub.clientId)?.printerId === printerId)
  }

  /** True when `packet` is a retained job: dropped, and answered on the printer's `errors` topic. */
  private refuseRetainedJob (client: Client | null, packet: PublishPacket): boolean {
    const { limits, logger } = this.deps
    const printerId = limits.printerOfJob(packet.topic)
    if (printerId === undefined) return false
    logger.warn({ clientId: clipForLog(client?.id), printerId }, 'retained job refused')
    this.refuseJob(packet, printerId, 'INVALID_JOB', 'a job must not be retained (every new relay session would print it again): publish it without the retain flag')
    return true
  }

  /** Drops a job (Aedes acknowledges it and publishes nothing) and answers it on its printer's `errors` topic. */
  private refuseJob (packet: PublishPacket, printerId: string, code: 'INVALID_JOB' | 'QUEUE_FULL', message: string): void {
    const { aedes, durable, topicPrefix, logger } = this.deps
    durable.drop(packet)
    const jobId = peekJobId(typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload)
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
