/** A real mqtt.js client for tests that records what it receives and waits for what it expects. */
import mqtt, { type MqttClient } from 'mqtt'

export interface Received {
  topic: string
  payload: Buffer
  retain: boolean
  text: string
  json: any
}

export class TestClient {
  readonly client: MqttClient
  readonly messages: Received[] = []
  private waiters: Array<{ match: (m: Received) => boolean, resolve: (m: Received) => void }> = []

  private constructor (client: MqttClient) {
    this.client = client
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString('utf8')
      let json: unknown
      try { json = JSON.parse(text) } catch { json = undefined }
      const message: Received = { topic, payload, retain: packet.retain, text, json }
      this.messages.push(message)
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(message)) return true
        w.resolve(message)
        return false
      })
    })
    client.on('error', () => {})
  }

  static async connect (url: string, options: mqtt.IClientOptions = {}): Promise<TestClient> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options })
    return new TestClient(client)
  }

  async subscribe (...topics: string[]): Promise<void> {
    await this.client.subscribeAsync(topics, { qos: 1 })
  }

  async publish (topic: string, payload: string | Buffer, options: mqtt.IClientPublishOptions = {}): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, ...options })
  }

  /** The first message, already received or still to come, that matches; rejects after `timeoutMs`. */
  waitFor (match: (m: Received) => boolean, timeoutMs = 10_000, what = 'a matching message'): Promise<Received> {
    const seen = this.messages.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (m: Received) => { clearTimeout(timer); resolve(m) } }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${this.messages.map((m) => `${m.topic} ${m.text.slice(0, 200)}`).join(' | ') || 'nothing'}`))
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }

  /** The result (response or error) for a job id. */
  outcome (printerId: string, jobId: string, timeoutMs = 10_000): Promise<Received> {
    return this.waitFor((m) => (m.topic === `printers/${printerId}/responses` || m.topic === `printers/${printerId}/errors`) && m.json?.jobId === jobId, timeoutMs, `the outcome of job ${jobId} on ${printerId}`)
  }

  async stop (): Promise<void> {
    await this.client.endAsync(true)
  }
}

/**
 * Connects with `onMessage` listening before CONNACK: a persistent session's queued messages can arrive in the
 * same read as the CONNACK, before `connectAsync`'s promise resumes, and mqtt.js acknowledges them whether or
 * not anyone listens (so a test would neither see them nor find them queued after).
 */
export async function connectListening (url: string, options: mqtt.IClientOptions, onMessage: (topic: string, payload: Buffer) => void): Promise<MqttClient> {
  const client = mqtt.connect(url, options)
  client.on('message', onMessage)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
  })
  return client
}

/**
 * Connects, or answers with the CONNACK return code of the refusal (or the error's message when there is none);
 * a client that connects is handed to `keep` (a test's Cleanup) so that it is closed after the test.
 */
export async function tryLogin (keep: { add: (client: TestClient) => TestClient }, url: string, options: mqtt.IClientOptions): Promise<TestClient | number | string> {
  try {
    return keep.add(await TestClient.connect(url, options))
  } catch (error) {
    return (error as { code?: number }).code ?? (error as Error).message
  }
}

/** When (Date.now()) the client's connection closes. */
export function closedAt (client: TestClient): Promise<number> {
  return new Promise((resolve) => client.client.once('close', () => resolve(Date.now())))
}
