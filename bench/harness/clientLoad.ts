/**
 * Load through the two ways Printwire offers besides raw MQTT: the client library (`printwire/client`), and
 * the HTTP API's `POST /api/printers/<id>/jobs?wait` (one keep-alive HTTP connection pool, as a backend's).
 * Each is a JobSender (loadShapes.ts) timing every job from its send to its result.
 */
import { randomBytes } from 'node:crypto'
import { connect, type PrintwireClient } from '../../client/index.ts'
import type { JobSender } from './loadShapes.ts'
import { BENCH_USER } from './parts.ts'
import { nowMs } from './stats.ts'

interface ClientLoadOptions {
  printers: string[]
  data: Buffer
}

abstract class TimedSender implements JobSender {
  readonly latencies: number[] = []
  failed = 0
  private next = 0
  /** Ids unique to this sender: a warm-up's ids repeated later would be answered as duplicates. */
  private readonly run = randomBytes(4).toString('hex')

  constructor (protected readonly options: ClientLoadOptions) {}

  async send (): Promise<boolean> {
    const n = this.next++
    const printerId = this.options.printers[n % this.options.printers.length] as string
    const started = nowMs()
    const ok = await this.print(printerId, `c${this.run}-${n}`).then(() => true, () => false)
    if (ok) this.latencies.push(nowMs() - started)
    else this.failed++
    return ok
  }

  protected abstract print (printerId: string, id: string): Promise<void>
  abstract close (): Promise<void>
}

class LibrarySender extends TimedSender {
  constructor (private readonly client: PrintwireClient, options: ClientLoadOptions) {
    super(options)
  }

  static async open (url: string, options: ClientLoadOptions): Promise<LibrarySender> {
    return new LibrarySender(await connect(url, { ...BENCH_USER }), options)
  }

  protected async print (printerId: string, id: string): Promise<void> {
    await this.client.print(printerId, this.options.data, { id, timeoutMs: 30_000 })
  }

  async close (): Promise<void> {
    await this.client.close()
  }
}

class HttpSender extends TimedSender {
  private readonly auth = `Basic ${Buffer.from(`${BENCH_USER.username}:${BENCH_USER.password}`).toString('base64')}`

  constructor (private readonly httpUrl: string, options: ClientLoadOptions) {
    super(options)
  }

  protected async print (printerId: string, id: string): Promise<void> {
    const response = await fetch(`${this.httpUrl}/api/printers/${printerId}/jobs?wait=30`, {
      method: 'POST',
      headers: { authorization: this.auth, 'content-type': 'application/octet-stream', 'idempotency-key': id },
      body: this.options.data as unknown as BodyInit
    })
    await response.arrayBuffer()
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`)
  }

  async close (): Promise<void> {}
}

export const librarySender = (url: string, options: ClientLoadOptions) => async (): Promise<JobSender> => await LibrarySender.open(url, options)
export const httpSender = (httpUrl: string, options: ClientLoadOptions) => async (): Promise<JobSender> => new HttpSender(httpUrl, options)
