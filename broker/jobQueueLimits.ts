/**
 * How many jobs, and how many bytes of them, the broker holds for each printer's relay session: stored and not
 * yet acknowledged by the relay (issue #10, finding 8: 400 MiB queued for an absent relay took the broker from
 * 132 to 572 MB). A job that would go over MAX_QUEUED_JOBS or MAX_QUEUED_BYTES is not queued: publishGate.ts
 * acknowledges it, drops it and answers QUEUE_FULL on the printer's `errors` topic, so its publisher is told.
 *
 * Counted in this process: a job counts from its store until the relay's PUBACK, and a relay session that starts
 * anew (no session present) starts its printer's count at zero. After a broker restart the jobs queued before it
 * are not counted until they are delivered (a deliberate limit: counting them would mean reading every queue at
 * start), so at most twice the limit can wait across one restart.
 */
import type { Aedes, AedesPublishPacket, Client, ConnackPacket } from 'aedes'
import { parsePrinterTopic, parseRelayClientId } from '../protocol/index.ts'

export interface QueueLimits {
  maxJobs: number
  maxBytes: number
}

interface Count {
  jobs: number
  bytes: number
}

export interface JobQueueLimitsDeps {
  aedes: Aedes
  topicPrefix: string
  limits: QueueLimits
}

export class JobQueueLimits {
  private readonly deps: JobQueueLimitsDeps
  private readonly counts = new Map<string, Count>()

  constructor (deps: JobQueueLimitsDeps) {
    this.deps = deps
  }

  start (): void {
    const { aedes } = this.deps
    // ('ack' is emitted with the stored packet on a PUBACK, and with the stored PUBREL, which has no topic, on a
    // PUBCOMP; Aedes' typings omit the event.)
    ;(aedes as unknown as NodeJS.EventEmitter).on('ack', (packet: AedesPublishPacket | undefined, client: Client) => {
      const printerId = this.relayPrinterOf(client)
      if (typeof packet?.topic !== 'string' || printerId === undefined || this.printerOfJob(packet.topic) !== printerId) return
      const count = this.counts.get(printerId)
      if (count === undefined) return
      count.jobs = Math.max(0, count.jobs - 1)
      count.bytes = Math.max(0, count.bytes - payloadBytes(packet.payload))
    })
    aedes.on('connackSent', (packet: ConnackPacket, client: Client) => {
      const printerId = this.relayPrinterOf(client)
      if (printerId !== undefined && !packet.sessionPresent) this.counts.delete(printerId)
    })
  }

  /** The printer of a jobs topic, or undefined for any other topic. */
  printerOfJob (topic: string): string | undefined {
    const parsed = parsePrinterTopic(this.deps.topicPrefix, topic)
    return parsed?.kind === 'jobs' ? parsed.printerId : undefined
  }

  /** Whether one more job of `bytes` for `printerId` fits; a reason to give when it does not. */
  refusal (printerId: string, bytes: number): string | undefined {
    const { maxJobs, maxBytes } = this.deps.limits
    const count = this.counts.get(printerId) ?? { jobs: 0, bytes: 0 }
    if (count.jobs + 1 > maxJobs) return `${count.jobs} jobs already wait for printer ${printerId}'s relay at the broker (MAX_QUEUED_JOBS ${maxJobs})`
    if (count.bytes + bytes > maxBytes) return `${count.bytes} bytes of jobs already wait for printer ${printerId}'s relay at the broker, and this one has ${bytes} (MAX_QUEUED_BYTES ${maxBytes})`
    return undefined
  }

  /** A job (`jobs` 1) queued for the relay session of `printerId`, or given back (-1, with negative bytes). */
  add (printerId: string, bytes: number, jobs = 1): void {
    const count = this.counts.get(printerId) ?? { jobs: 0, bytes: 0 }
    count.jobs = Math.max(0, count.jobs + jobs)
    count.bytes = Math.max(0, count.bytes + bytes)
    this.counts.set(printerId, count)
  }

  /** What waits for `printerId`'s relay, as counted here. */
  queued (printerId: string): Count {
    return { ...(this.counts.get(printerId) ?? { jobs: 0, bytes: 0 }) }
  }

  private relayPrinterOf (client: Client): string | undefined {
    return parseRelayClientId(client.id)?.printerId
  }
}

export function payloadBytes (payload: Buffer | string | undefined): number {
  if (payload === undefined) return 0
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
}
