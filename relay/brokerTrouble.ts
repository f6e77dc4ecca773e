/**
 * What a relay's broker connection says when it cannot connect (issue 14): one clear line per failure episode,
 * naming the setting to check (MQTT_URL; MQTT_USERNAME/MQTT_PASSWORD; RELAY_ID), without a stack trace, rather
 * than a stack trace at every attempt (every 1-3 s, per printer). An episode ends at the next CONNACK; while it
 * lasts, a failure of another kind is said at once, the same one again only as a reminder every REMIND_MS
 * (debug otherwise). The relay keeps retrying: a broker that comes back, or a password fixed on the broker's side,
 * needs no restart.
 */
import type { Logger } from '../runtime/logger.ts'

/** How often an unchanged failure is said again while it lasts. */
export const REMIND_MS = 60_000

export type TroubleKind = 'unreachable' | 'login' | 'client-id' | 'other'

export interface TroubleDeps {
  logger: Logger
  url: string
  username: string | undefined
  relayId: string
  clientId: string
  now?: () => number
}

/** MQTT_URL without a password in it, for logs. */
export function redactMqttUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password === '') return url
    parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}

/** What kind of failure `error` is: a CONNACK refusal (code 2, 4, 5) or a socket/name error (`E...`). */
export function troubleKind (error: Error): TroubleKind {
  const code = (error as { code?: unknown }).code
  if (code === 2) return 'client-id'
  if (code === 4 || code === 5) return 'login'
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return 'unreachable'
  return 'other'
}

export class BrokerTrouble {
  private readonly deps: TroubleDeps
  private last: { kind: TroubleKind, at: number } | undefined
  private attempts = 0
  /** An error was reported since the last connection closed. */
  private errorSinceClose = false

  constructor (deps: TroubleDeps) {
    this.deps = deps
  }

  /**
   * A connection closed. One the broker never accepted (no CONNACK), with no error reported, is a failure too: a
   * WebSocket URL whose path takes no MQTT, a server that is not an MQTT broker.
   */
  closed (accepted: boolean): void {
    const reported = this.errorSinceClose
    this.errorSinceClose = false
    if (!accepted && !reported) this.failed(new Error('the connection closed before the broker accepted it'))
    this.errorSinceClose = false
  }

  /** A connection error from mqtt.js. */
  failed (error: Error): void {
    this.errorSinceClose = true
    const kind = troubleKind(error)
    const now = (this.deps.now ?? Date.now)()
    this.attempts += 1
    const again = this.last !== undefined && this.last.kind === kind
    if (again && now - (this.last?.at ?? 0) < REMIND_MS) {
      this.deps.logger.debug({ reason: error.message, attempts: this.attempts }, 'broker connection failed again')
      return
    }
    this.last = { kind, at: now }
    this.deps.logger.error({ reason: error.message, attempts: this.attempts, ...(kind === 'login' ? { user: this.deps.username } : {}), ...(kind === 'client-id' ? { clientId: this.deps.clientId } : {}) }, this.message(kind, error))
  }

  /** A CONNACK: the episode, if any, is over. */
  connected (): void {
    if (this.last !== undefined) this.deps.logger.info({ attempts: this.attempts }, 'the broker connection works again')
    this.last = undefined
    this.attempts = 0
  }

  private message (kind: TroubleKind, error: Error): string {
    const url = redactMqttUrl(this.deps.url)
    switch (kind) {
      case 'unreachable':
        return `cannot reach the broker at ${url} (${error.message}): check MQTT_URL and that the broker runs there; retrying`
      case 'login':
        return `the broker at ${url} refused this relay's log-in${this.deps.username === undefined ? ' (no MQTT_USERNAME set)' : ` as "${this.deps.username}"`}: check MQTT_USERNAME/MQTT_PASSWORD and that the user is a relay of this printer; retrying`
      case 'client-id':
        return `the broker refused this relay's client id: another relay process with the same RELAY_ID is connected (RELAY_ID=${this.deps.relayId}; or the id belongs to another user); this one prints nothing until it is gone: give each relay its own RELAY_ID, or stop the other; retrying`
      case 'other':
        return `cannot connect to the broker at ${url} (${error.message}): check MQTT_URL (mqtt://, mqtts://, ws:// or wss://; Printwire's broker takes MQTT over WebSockets at /mqtt, e.g. ws://host:5050/mqtt) and MQTT_CA_FILE; retrying`
    }
  }
}
