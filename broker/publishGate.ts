/**
 * What happens to a PUBLISH before the broker acknowledges it, in Aedes' `authorizePublish` (the only hook
 * that runs before the PUBACK and can wait):
 * 1. Access (accessHooks.ts, with AUTH_FILE): a refused publish closes the connection; a refused Will of a dead
 *    broker instance is dropped (Aedes is told it was published, so it deletes it).
 * 2. A retained job is refused: a retained message is sent again to every new subscriber, so every new relay
 *    session would print it again. It is acknowledged and dropped, and the printer's `errors` topic says why
 *    (INVALID_JOB, with the job's id when it has one), so the publisher is told and does not resend it.
 * 3. Durability (durablePublish.ts): a QoS 1 message is stored for every session it matches before the PUBACK.
 */
import type { Aedes, Client, PublishPacket } from 'aedes'
import { errorsTopic, parsePrinterTopic, peekJobId, type JobErrorMessage } from '../protocol/index.ts'
import { clipForLog } from '../runtime/logText.ts'
import type { Logger } from '../runtime/logger.ts'
import type { DurablePublish } from './durablePublish.ts'

type Done = (error?: Error | null) => void
export type AuthorizePublish = (client: Client | null, packet: PublishPacket, done: Done) => void

export interface PublishGateDeps {
  aedes: Aedes
  durable: DurablePublish
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
      durable.storeBeforeAck(client, packet).then(() => done(null), (storeError: Error) => {
        logger.error({ err: storeError, clientId: clipForLog(client.id), topic: clipForLog(packet.topic) }, 'could not store a publish: not acknowledged, connection closed (the client sends it again)')
        done(storeError)
      })
    }
    if (authorize === undefined) allowed(null)
    else authorize(client, packet, allowed)
  }

  /** True when `packet` is a retained job: dropped, and answered on the printer's `errors` topic. */
  private refuseRetainedJob (client: Client | null, packet: PublishPacket): boolean {
    const { aedes, durable, topicPrefix, logger } = this.deps
    const topic = parsePrinterTopic(topicPrefix, packet.topic)
    if (topic === null || topic.kind !== 'jobs') return false
    durable.drop(packet)
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
    const jobId = peekJobId(payload)
    logger.warn({ clientId: clipForLog(client?.id), printerId: topic.printerId, jobId }, 'retained job refused')
    const error: JobErrorMessage = {
      ...(jobId === undefined ? {} : { jobId }),
      printerId: topic.printerId,
      code: 'INVALID_JOB',
      message: 'a job must not be retained (every new relay session would print it again): publish it without the retain flag',
      retryable: false,
      at: new Date().toISOString()
    }
    aedes.publish({ cmd: 'publish', topic: errorsTopic(topicPrefix, topic.printerId), payload: Buffer.from(JSON.stringify(error)), qos: 1, retain: false, dup: false }, (publishError?: Error) => {
      if (publishError) logger.error({ err: publishError, printerId: topic.printerId }, 'could not publish the refusal of a retained job')
    })
    return true
  }
}
