/**
 * What a page server (the embedded broker's, or `npm run web`'s) serves besides the page: the path of MQTT
 * over WebSockets, and `/config.json`, the broker's settings a page needs to talk to it. Browser-safe.
 */
import { maxPayloadBytes } from './limits.ts'
import { PRINTER_ID_PATTERN, TOPIC_PREFIX_PATTERN } from './topics.ts'

/** MQTT over WebSockets, on the same HTTP server as the page. */
export const WEBSOCKET_PATH = '/mqtt'

/** Where a page server serves the client library for browsers (SPEC "Client library"). */
export const CLIENT_SCRIPT_PATH = '/printwire-client.js'

/** Where a page server serves the ticket preview's renderer, which the page loads after it starts. */
export const PREVIEW_SCRIPT_PATH = '/preview.js'

/** Where a page server serves the page's ticket templates (examples/tickets/<name>.fgl), as bytes. */
export const TEMPLATES_PATH = '/templates'

/** The broker behind a page server: Printwire's own answers NO_RELAY; Mosquitto cannot (the client checks status). */
export type BrokerKind = 'printwire' | 'mosquitto'
export const BROKER_KINDS: readonly BrokerKind[] = ['printwire', 'mosquitto']

/** Where a page reads its `PageConfig`. */
export const PAGE_CONFIG_PATH = '/config.json'

/** The body of `/config.json`: public settings only (never users, passwords or file paths). */
export interface PageConfig {
  /** TOPIC_PREFIX: the first topic level(s) of every printer topic. */
  topicPrefix: string
  /** MAX_JOB_BYTES: the largest job (decoded data) the broker and the relays take. */
  maxJobBytes: number
  /** The largest MQTT payload the broker takes (a `maxJobBytes` job in a base64 envelope, with room for headers). */
  maxPayloadBytes: number
  /** Where the page opens MQTT over WebSockets, on its own host. */
  mqttPath: string
  /** The broker behind this server (`broker` of the client library's connect options); `printwire` when absent. */
  broker?: BrokerKind
  /**
   * Only from `npm start` (one machine, start.ts): its simulated printer, whose printed tickets the page may
   * show, drawn, under `ticketsPath` (`<ticketsPath>/latest`, `<ticketsPath>/<n>.png|.svg`). Absent everywhere else.
   */
  simulator?: SimulatorTicketsConfig
}

export interface SimulatorTicketsConfig {
  /** The simulated printer's id (of the relay's PRINTERS). */
  printerId: string
  /** A path on the page's own server: `/` then letters, digits, `_`, `-` and single `/`. */
  ticketsPath: string
}

/** Where `npm start` serves its simulated printer's tickets (printer-sim/printedTicketsRouter.ts). */
export const SIMULATOR_TICKETS_PATH = '/simulator/tickets'

/** A same-origin absolute path with no `.` segments, `//` or query: safe to put in front of a file name. */
const SAFE_PATH = /^(?:\/[A-Za-z0-9_-]+)+$/

/** The page config a server with these settings serves. */
export function pageConfigFor (settings: { TOPIC_PREFIX: string, MAX_JOB_BYTES: number }, broker: BrokerKind = 'printwire'): PageConfig {
  return {
    topicPrefix: settings.TOPIC_PREFIX,
    maxJobBytes: settings.MAX_JOB_BYTES,
    maxPayloadBytes: maxPayloadBytes(settings.MAX_JOB_BYTES),
    mqttPath: WEBSOCKET_PATH,
    broker
  }
}

/** Reads a `/config.json` body; null when it is not a page config (a page must not trust what it receives). */
export function readPageConfig (body: unknown): PageConfig | null {
  if (typeof body !== 'object' || body === null) return null
  const value = body as Record<string, unknown>
  if (typeof value.topicPrefix !== 'string' || !TOPIC_PREFIX_PATTERN.test(value.topicPrefix)) return null
  if (!isPositiveInteger(value.maxJobBytes) || !isPositiveInteger(value.maxPayloadBytes)) return null
  if (typeof value.mqttPath !== 'string' || !value.mqttPath.startsWith('/')) return null
  if (value.broker !== undefined && !(BROKER_KINDS as readonly unknown[]).includes(value.broker)) return null
  const broker: BrokerKind = value.broker === 'mosquitto' ? 'mosquitto' : 'printwire'
  const config: PageConfig = { topicPrefix: value.topicPrefix, maxJobBytes: value.maxJobBytes, maxPayloadBytes: value.maxPayloadBytes, mqttPath: value.mqttPath, broker }
  if (value.simulator === undefined) return config
  const simulator = readSimulatorTickets(value.simulator)
  return simulator === null ? null : { ...config, simulator }
}

function readSimulatorTickets (body: unknown): SimulatorTicketsConfig | null {
  if (typeof body !== 'object' || body === null) return null
  const { printerId, ticketsPath } = body as Record<string, unknown>
  if (typeof printerId !== 'string' || !PRINTER_ID_PATTERN.test(printerId)) return null
  if (typeof ticketsPath !== 'string' || !SAFE_PATH.test(ticketsPath)) return null
  return { printerId, ticketsPath }
}

function isPositiveInteger (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}
