/**
 * The page's one connection: the client library (`printwire/client`, client/) over WebSockets to `/mqtt` on
 * the page's own host, anonymous or as the user who logged in. The library prints, correlates results and
 * lists the printers; this file turns its connection events into one `ConnectionState` for the page, tries
 * again while the broker cannot be reached at first, and hands `server/time` on.
 */
import { connect, isPrintwireError, type PrintwireClient } from '../../client/index.ts'
import type { PrinterInfo } from '../../client/printerDirectory.ts'
import type { BrokerKind } from '../../protocol/pageConfig.ts'
import { SERVER_TIME_TOPIC } from '../../protocol/topics.ts'

export type ConnectionPhase = 'connecting' | 'connected' | 'disconnected'

export interface ConnectionState {
  phase: ConnectionPhase
  /** What a person reads in the status area. */
  text: string
}

export interface PageConnectionDeps {
  url: string
  topicPrefix: string
  broker: BrokerKind
  onState: (state: ConnectionState) => void
  onPrinters: (list: PrinterInfo[]) => void
  onServerTime: (text: string) => void
  /** The broker refused the log-in: the connection stops trying. */
  onLoginRefused: () => void
  username?: string
  password?: string
  reconnectPeriodMs?: number
}

/** `ws(s)://<this page's host><mqttPath>` (`/mqtt`): wss when the page itself came over https. */
export function brokerUrlFor (location: Pick<Location, 'protocol' | 'host'>, mqttPath: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${location.host}${mqttPath}`
}

/** Random base-36 characters (getRandomValues works outside secure contexts too). */
export function randomSuffix (length = 12): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  return Array.from(bytes, (b) => (b % 36).toString(36)).join('')
}

export class PageConnection {
  private readonly deps: PageConnectionDeps
  private client: PrintwireClient | undefined
  private phase: ConnectionPhase = 'connecting'
  private retry: ReturnType<typeof setTimeout> | undefined
  private stopped = false
  private readonly decoder = new TextDecoder()

  constructor (deps: PageConnectionDeps) {
    this.deps = deps
  }

  get connected (): boolean {
    return this.client?.connected ?? false
  }

  /** The library's client once connected (it prints); undefined before. */
  get printer (): PrintwireClient | undefined {
    return this.client
  }

  start (): void {
    this.report('connecting', `Connecting to ${this.deps.url}…`)
    void this.attempt()
  }

  private get reconnectPeriodMs (): number {
    return this.deps.reconnectPeriodMs ?? 2000
  }

  /** One try; the library reconnects by itself once connected, so only a first connection is tried again here. */
  private async attempt (): Promise<void> {
    const { url, username, password } = this.deps
    let client: PrintwireClient
    try {
      client = await connect(url, {
        topicPrefix: this.deps.topicPrefix,
        broker: this.deps.broker,
        clientId: `printwire-web-${randomSuffix()}`,
        reconnectPeriodMs: this.reconnectPeriodMs,
        ...(username === undefined ? {} : { username, password: password ?? '' })
      })
    } catch (error) {
      if (this.stopped) return
      if (isPrintwireError(error, 'LOGIN_REFUSED')) {
        this.loginRefused()
        return
      }
      this.lost(error instanceof Error ? error.message : String(error))
      this.retry = setTimeout(() => { void this.attempt() }, this.reconnectPeriodMs)
      return
    }
    if (this.stopped) {
      void client.close()
      return
    }
    this.client = client
    client.on('printers', (list) => this.deps.onPrinters(list))
    client.on('connection', (state) => {
      if (state.loginRefused === true) this.loginRefused()
      else if (state.connected) this.report('connected', `Connected to ${url}`)
      else this.lost(state.reason ?? '')
    })
    client.mqtt.on('message', (topic, payload) => {
      if (topic === SERVER_TIME_TOPIC) this.deps.onServerTime(this.decoder.decode(payload))
    })
    client.mqtt.subscribe(SERVER_TIME_TOPIC, { qos: 0 }, () => {})
    this.report('connected', `Connected to ${url}`)
    this.deps.onPrinters(client.printers())
  }

  /** Said once per outage, so the live region stays quiet while the library tries again. */
  private lost (reason: string): void {
    if (this.phase === 'disconnected') return
    const seconds = Math.max(1, Math.round(this.reconnectPeriodMs / 1000))
    const since = new Date().toLocaleTimeString()
    const why = reason === '' ? '' : ` (${reason})`
    this.report('disconnected', `Disconnected since ${since}${why}. Reconnecting to ${this.deps.url} every ${seconds} s…`)
  }

  /** Retrying the same credentials cannot help: stop and let the page ask. */
  private loginRefused (): void {
    this.stop()
    this.report('disconnected', 'The broker refused the log-in.')
    this.deps.onLoginRefused()
  }

  stop (): void {
    this.stopped = true
    clearTimeout(this.retry)
    void this.client?.close()
    this.client = undefined
  }

  private report (phase: ConnectionPhase, text: string): void {
    this.phase = phase
    this.deps.onState({ phase, text })
  }
}
