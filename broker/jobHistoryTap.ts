/**
 * Records the job history on the embedded broker from what it publishes (Aedes' 'publish' event: every message
 * once published, after the access checks, on the instance its publisher is connected to), not from the relay:
 * jobs with the user who published them (`AUTH_FILE`; anonymous without it), results, errors (the broker's own
 * QUEUE_FULL and NO_RELAY answers included) and cancel requests. The listener only notes the message
 * (runtime/jobHistory/jobHistoryRecorder.ts): it never delays or fails a job's PUBACK.
 */
import type { Aedes, AedesPublishPacket, Client } from 'aedes'
import type { Publisher } from '../protocol/jobHistory.ts'
import { JobHistoryRecorder } from '../runtime/jobHistory/jobHistoryRecorder.ts'
import type { JobHistoryStore, Now } from '../runtime/jobHistory/jobHistoryStore.ts'
import type { Logger } from '../runtime/logger.ts'

export interface JobHistoryTapDeps {
  aedes: Aedes
  store: JobHistoryStore
  topicPrefix: string
  /** The user of a connection; undefined without AUTH_FILE (every client anonymous). */
  userOf: ((client: Client) => string | undefined) | undefined
  logger: Logger
  now?: Now
}

export class JobHistoryTap {
  private readonly deps: JobHistoryTapDeps
  readonly recorder: JobHistoryRecorder
  private readonly listener = (packet: AedesPublishPacket, client: Client | null): void => this.seen(packet, client)

  constructor (deps: JobHistoryTapDeps) {
    this.deps = deps
    this.recorder = new JobHistoryRecorder({ store: deps.store, topicPrefix: deps.topicPrefix, logger: deps.logger, ...(deps.now === undefined ? {} : { now: deps.now }) })
  }

  start (): void {
    this.deps.aedes.on('publish', this.listener)
  }

  /** Stops listening, then waits for what was noted to be written. */
  async stop (): Promise<void> {
    this.deps.aedes.off('publish', this.listener)
    await this.recorder.stop()
  }

  private seen (packet: AedesPublishPacket, client: Client | null): void {
    this.recorder.observe(packet.topic, packet.payload, this.publisherOf(client))
  }

  private publisherOf (client: Client | null): Publisher {
    // The broker's own messages (its answers on `errors`, Wills) have no client.
    if (client === null || client === undefined) return { user: null }
    if (this.deps.userOf === undefined) return { user: null, anonymous: true }
    return { user: this.deps.userOf(client) ?? null }
  }
}
