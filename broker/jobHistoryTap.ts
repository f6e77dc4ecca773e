/**
 * Records the job history on the embedded broker from what it sees, not from the relay:
 * - a job as soon as the access checks allow it (`authorizeAndNote`, in front of the publish gate), with the user
 *   who published it (`AUTH_FILE`; anonymous without it): so a job the gate then refuses (retained, QUEUE_FULL,
 *   NO_RELAY) is recorded, with its user, before the broker's answer on `errors`;
 * - results, errors (the broker's own answers included) and cancel requests once published (Aedes' 'publish'
 *   event: every message, on the instance its publisher is connected to).
 * Both only note the message (runtime/jobHistory/jobHistoryRecorder.ts): they never delay or fail a job's PUBACK.
 * The metrics (runtime/printwireMetrics.ts) are fed from the same reading, and from the printers' `status` messages.
 */
import type { Aedes, AedesPublishPacket, Client, PublishPacket } from 'aedes'
import type { Publisher } from '../protocol/jobHistory.ts'
import { JobHistoryRecorder } from '../runtime/jobHistory/jobHistoryRecorder.ts'
import type { JobHistoryStore, Now } from '../runtime/jobHistory/jobHistoryStore.ts'
import type { Logger } from '../runtime/logger.ts'
import type { PrintwireMetrics } from '../runtime/printwireMetrics.ts'
import { parsePrinterTopic } from '../protocol/index.ts'
import type { AuthorizePublish } from './publishGate.ts'

export interface JobHistoryTapDeps {
  aedes: Aedes
  store: JobHistoryStore
  topicPrefix: string
  /** The user of a connection; undefined without AUTH_FILE (every client anonymous). */
  userOf: ((client: Client) => string | undefined) | undefined
  logger: Logger
  now?: Now
  /** Told of every job message the history reads, and of every printer status. */
  metrics?: PrintwireMetrics | undefined
}

export class JobHistoryTap {
  private readonly deps: JobHistoryTapDeps
  readonly recorder: JobHistoryRecorder
  private readonly listener = (packet: AedesPublishPacket, client: Client | null): void => this.seen(packet, client)

  constructor (deps: JobHistoryTapDeps) {
    this.deps = deps
    const metrics = deps.metrics
    this.recorder = new JobHistoryRecorder({
      store: deps.store,
      topicPrefix: deps.topicPrefix,
      logger: deps.logger,
      ...(deps.now === undefined ? {} : { now: deps.now }),
      ...(metrics === undefined ? {} : { watch: (seen) => metrics.jobMessage(seen) })
    })
  }

  start (): void {
    this.deps.aedes.on('publish', this.listener)
  }

  /** Stops listening, then waits for what was noted to be written. */
  async stop (): Promise<void> {
    this.deps.aedes.off('publish', this.listener)
    await this.recorder.stop()
  }

  /**
   * `authorize` (the access hooks; undefined: every publish allowed) that also notes each job it allows from a
   * client, for the publish gate to call.
   */
  authorizeAndNote (authorize: AuthorizePublish | undefined): AuthorizePublish {
    return (client, packet, done) => {
      const allowed = (error?: Error | null): void => {
        if (!error && client !== null && isJobTopic(packet)) this.recorder.observe(packet.topic, packet.payload, this.publisherOf(client))
        done(error)
      }
      if (authorize === undefined) allowed(null)
      else authorize(client, packet, allowed)
    }
  }

  /** Everything but jobs, which were noted when allowed. */
  private seen (packet: AedesPublishPacket, client: Client | null): void {
    if (isJobTopic(packet)) return
    if (this.deps.metrics !== undefined && packet.topic.endsWith('/status')) {
      const parsed = parsePrinterTopic(this.deps.topicPrefix, packet.topic)
      if (parsed?.kind === 'status') this.deps.metrics.statusMessage(parsed.printerId, packet.payload)
      return
    }
    this.recorder.observe(packet.topic, packet.payload, this.publisherOf(client))
  }

  private publisherOf (client: Client | null): Publisher {
    // The broker's own messages (its answers on `errors`, Wills) have no client.
    if (client === null || client === undefined) return { user: null }
    if (this.deps.userOf === undefined) return { user: null, anonymous: true }
    return { user: this.deps.userOf(client) ?? null }
  }
}

function isJobTopic (packet: PublishPacket | AedesPublishPacket): boolean {
  return packet.topic.endsWith('/jobs')
}
