/**
 * Load on a broker with mqtt.js (the client library Printwire's users have), QoS 1 throughout:
 * - e2e: jobs with ids on `printers/<id>/jobs`, each timed from publish to its result on `responses`;
 * - ceiling: the same broker's own publish → subscribe rate, one hop, same client library, window, payload.
 * A window keeps a fixed number of jobs (or messages) in flight; an open loop offers a fixed rate instead.
 */
import { randomBytes } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'
import { jobsTopic } from '../../protocol/index.ts'
import { disableNagle } from '../../runtime/noDelay.ts'
import { oneAtATime, openLoop, windowed, type JobSender, type LoadResult } from './loadShapes.ts'
import { nowMs, summarize } from './stats.ts'
import { BENCH_USER } from './parts.ts'

export type { LoadResult }

async function connect (url: string, clientId: string): Promise<MqttClient> {
  return disableNagle(await mqtt.connectAsync(url, { protocolVersion: 4, clientId, clean: true, reconnectPeriod: 0, ...BENCH_USER }))
}

/** A ticket of about `bytes` (FGL text), as the job's data. */
export function ticketOfSize (bytes: number): Buffer {
  const head = Buffer.from('<RC10,10><F3>Printwire bench<RC60,10><F2>')
  const body = Buffer.alloc(Math.max(0, bytes - head.length - 3), 0x41)
  return Buffer.concat([head, body, Buffer.from('<p>')])
}

/** A graphics job: a `<G#>` block of `bytes` binary bytes (every value), in one ticket. */
export function graphicsJob (bytes: number): Buffer {
  const graphics = Buffer.alloc(bytes)
  for (let i = 0; i < bytes; i++) graphics[i] = (i * 31 + 7) & 0xff
  return Buffer.concat([Buffer.from(`<RC0,0><G${bytes}>`), graphics, Buffer.from('<p>')])
}

interface E2eOptions {
  url: string
  printers: string[]
  data: Buffer
  /** Envelope encoding: base64 keeps any byte; utf8 for text tickets. */
  encoding: 'utf8' | 'base64'
}

/** Publishes jobs and matches results by id; one connection, as a box-office server would. */
class JobClient implements JobSender {
  private readonly pending = new Map<string, { at: number, done: (ok: boolean) => void }>()
  private next = 0
  /** Ids unique to this client: a warm-up's ids repeated in the measured run would be answered as duplicates. */
  private readonly run = randomBytes(4).toString('hex')
  private readonly payloadCache = new Map<string, string>()
  readonly latencies: number[] = []
  failed = 0

  constructor (private readonly client: MqttClient, private readonly options: E2eOptions) {
    client.on('message', (topic, payload) => {
      const text = payload.toString('utf8')
      const match = /"jobId":"([^"]+)"/.exec(text)
      const id = match?.[1]
      if (id === undefined) return
      const waiting = this.pending.get(id)
      if (waiting === undefined) return
      const ok = topic.endsWith('/responses')
      if (!ok && /"retryable":true/.test(text)) return // the relay keeps the job and reports again
      this.pending.delete(id)
      if (ok) this.latencies.push(nowMs() - waiting.at)
      else this.failed++
      waiting.done(ok)
    })
  }

  static async open (options: E2eOptions): Promise<JobClient> {
    const client = await connect(options.url, `bench-jobs-${process.pid}-${Math.random().toString(16).slice(2, 8)}`)
    await client.subscribeAsync(['printers/+/responses', 'printers/+/errors'], { qos: 1 })
    return new JobClient(client, options)
  }

  /** Publishes the next job (printers in turn); resolves when its result arrives. */
  send (): Promise<boolean> {
    const n = this.next++
    const printerId = this.options.printers[n % this.options.printers.length] as string
    const id = `b${this.run}-${n}`
    const data = this.options.encoding === 'base64' ? this.base64() : this.options.data.toString('utf8')
    const payload = `{"id":"${id}","encoding":"${this.options.encoding}","data":${JSON.stringify(data)}}`
    return new Promise((resolve) => {
      this.pending.set(id, { at: nowMs(), done: resolve })
      this.client.publish(jobsTopic('printers', printerId), payload, { qos: 1 })
    })
  }

  private base64 (): string {
    let cached = this.payloadCache.get('b64')
    if (cached === undefined) {
      cached = this.options.data.toString('base64')
      this.payloadCache.set('b64', cached)
    }
    return cached
  }

  async close (): Promise<void> {
    await this.client.endAsync(true)
  }
}

/** `jobs` jobs with `window` in flight at all times; jobs/s from the first publish to the last result. */
export const e2eWindowed = (options: E2eOptions & { jobs: number, window: number }): Promise<LoadResult> => windowed(() => JobClient.open(options), options.jobs, options.window)

/** One job at a time: each published once the previous one's result is back (an idle system). */
export const e2eIdle = (options: E2eOptions & { jobs: number }): Promise<LoadResult> => oneAtATime(() => JobClient.open(options), options.jobs)

/** Jobs offered at `rate` per second for `seconds`, whatever the results do (an open loop). */
export const e2eOpenLoop = (options: E2eOptions & { rate: number, seconds: number }): Promise<LoadResult> => openLoop(() => JobClient.open(options), options.rate, options.seconds)

/** The broker's own QoS 1 publish → subscribe rate: `messages` of `payload` bytes, `window` in flight. */
export async function ceiling (options: { url: string, messages: number, window: number, payload: Buffer }): Promise<LoadResult> {
  const topic = `printers/ceiling-${process.pid}/responses`
  const subscriber = await connect(options.url, `bench-sub-${process.pid}`)
  const publisher = await connect(options.url, `bench-pub-${process.pid}`)
  try {
    await subscriber.subscribeAsync(topic, { qos: 1 })
    const sentAt: number[] = []
    const latencies: number[] = []
    let received = 0
    let sent = 0
    const started = nowMs()
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (sent < options.messages && sent - received < options.window) {
          sentAt.push(nowMs())
          const header = Buffer.from(String(sent).padStart(10, '0'))
          sent++
          publisher.publish(topic, Buffer.concat([header, options.payload]), { qos: 1 })
        }
      }
      subscriber.on('message', (_topic, payload) => {
        latencies.push(nowMs() - (sentAt[Number(payload.subarray(0, 10).toString())] ?? 0))
        received++
        if (received >= options.messages) resolve()
        else pump()
      })
      pump()
    })
    const seconds = (nowMs() - started) / 1000
    return { completed: received, failed: 0, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(received / seconds), latency: summarize(latencies) }
  } finally {
    await publisher.endAsync(true)
    await subscriber.endAsync(true)
  }
}

/** One-hop publish → subscribe of `payload`, one at a time: the broker's own cost for the same bytes. */
export async function oneHop (url: string, payload: Buffer, count: number): Promise<number[]> {
  const client = disableNagle(await mqtt.connectAsync(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0, ...BENCH_USER }))
  try {
    const topic = 'printers/big-hop/responses'
    await client.subscribeAsync(topic, { qos: 1 })
    const latencies: number[] = []
    for (let i = 0; i < count; i++) {
      const started = nowMs()
      const received = new Promise<void>((resolve) => client.once('message', () => resolve()))
      client.publish(topic, payload, { qos: 1 })
      await received
      latencies.push(nowMs() - started)
    }
    return latencies
  } finally {
    await client.endAsync(true)
  }
}
