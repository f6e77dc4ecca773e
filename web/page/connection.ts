/**
 * The page's one MQTT connection: mqtt.js over WebSockets to `/mqtt` on the page's own host, a clean
 * session with a random client id, reconnecting by itself. It turns mqtt.js's events into one
 * `ConnectionState` for the page and hands received messages on as text.
 */
import mqtt, { type MqttClient } from 'mqtt'

export type ConnectionPhase = 'connecting' | 'connected' | 'disconnected'

export interface ConnectionState {
  phase: ConnectionPhase
  /** What a person reads in the status area. */
  text: string
}

export interface PageConnectionDeps {
  url: string
  /** Topics to subscribe to (QoS 1) once connected; mqtt.js subscribes again after each reconnect. */
  topics: string[]
  onState: (state: ConnectionState) => void
  onMessage: (topic: string, text: string) => void
  /** A subscription the broker refused (e.g. by its access rules). */
  onRefused: (topic: string) => void
  /** The broker refused the log-in (CONNACK 4 or 5): the connection stops trying. */
  onLoginRefused: (returnCode: number) => void
  username?: string
  password?: string
  reconnectPeriodMs?: number
}

/** CONNACK return codes of MQTT 3.1.1 that mean "log in (again)": bad user name or password, not authorized. */
const LOGIN_REFUSED = new Set([4, 5])

/** `ws(s)://<this page's host><mqttPath>` (`/mqtt`): wss when the page itself came over https. */
export function brokerUrlFor (location: Pick<Location, 'protocol' | 'host'>, mqttPath: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${location.host}${mqttPath}`
}

/** `printwire-web-` and 12 random base-36 characters (getRandomValues works outside secure contexts too). */
export function randomSuffix (length = 12): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  return Array.from(bytes, (b) => (b % 36).toString(36)).join('')
}

export class PageConnection {
  private readonly deps: PageConnectionDeps
  private client: MqttClient | undefined
  private subscribed = false
  private phase: ConnectionPhase = 'connecting'
  private readonly decoder = new TextDecoder()

  constructor (deps: PageConnectionDeps) {
    this.deps = deps
  }

  get connected (): boolean {
    return this.client?.connected ?? false
  }

  start (): void {
    const { url } = this.deps
    this.report('connecting', `Connecting to ${url}…`)
    const client = mqtt.connect(url, {
      protocolVersion: 4,
      clean: true,
      clientId: `printwire-web-${randomSuffix()}`,
      reconnectPeriod: this.reconnectPeriodMs,
      connectTimeout: 10_000,
      keepalive: 30,
      ...(this.deps.username === undefined ? {} : { username: this.deps.username, password: this.deps.password ?? '' })
    })
    this.client = client
    this.watch(client)
    client.on('message', (topic, payload) => {
      this.deps.onMessage(topic, this.decoder.decode(payload))
    })
  }

  private get reconnectPeriodMs (): number {
    return this.deps.reconnectPeriodMs ?? 2000
  }

  /** Turns mqtt.js's connect, close, offline and error events into `ConnectionState`s. */
  private watch (client: MqttClient): void {
    const { url } = this.deps
    const seconds = Math.max(1, Math.round(this.reconnectPeriodMs / 1000))
    let lastError = ''
    client.on('connect', () => {
      lastError = ''
      this.report('connected', `Connected to ${url}`)
      // mqtt.js resubscribes by itself after a reconnect (`resubscribe`), so subscribe once.
      if (!this.subscribed) this.subscribe(client)
    })
    // `close` comes after every failed attempt too: say it once per outage, so the live region stays quiet.
    const lost = (): void => {
      if (client.disconnecting || this.phase === 'disconnected') return
      const since = new Date().toLocaleTimeString()
      const why = lastError === '' ? '' : ` (${lastError})`
      this.report('disconnected', `Disconnected since ${since}${why}. Reconnecting to ${url} every ${seconds} s…`)
    }
    client.on('close', lost)
    client.on('offline', lost)
    // Errors are followed by `close`; never let one throw.
    client.on('error', (error) => {
      lastError = error.message
      console.warn('MQTT error:', error.message)
      this.refusedLogIn(client, (error as { code?: unknown }).code)
    })
  }

  /** A CONNACK refusing the log-in: retrying the same credentials cannot help, so stop and let the page ask. */
  private refusedLogIn (client: MqttClient, code: unknown): void {
    if (typeof code !== 'number' || !LOGIN_REFUSED.has(code)) return
    client.end(true)
    this.report('disconnected', 'The broker refused the log-in.')
    this.deps.onLoginRefused(code)
  }

  /** Publishes QoS 1; resolves when the broker has acknowledged it (PUBACK). */
  publish (topic: string, payload: string): Promise<void> {
    const client = this.client
    if (client === undefined) return Promise.reject(new Error('not connected'))
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos: 1 }, (error) => { if (error) reject(error); else resolve() })
    })
  }

  stop (): void {
    this.client?.end(true)
    this.client = undefined
  }

  private subscribe (client: MqttClient): void {
    this.subscribed = true
    client.subscribe(this.deps.topics, { qos: 1 }, (error, granted) => {
      if (error) {
        console.warn('MQTT subscribe failed:', error.message)
        this.subscribed = false
        return
      }
      for (const grant of granted ?? []) {
        if (grant.qos === 128) this.deps.onRefused(grant.topic)
      }
    })
  }

  private report (phase: ConnectionPhase, text: string): void {
    this.phase = phase
    this.deps.onState({ phase, text })
  }
}
