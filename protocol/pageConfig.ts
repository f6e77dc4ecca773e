/**
 * What a page server (the embedded broker's, or `npm run web`'s) serves besides the page: the path of MQTT
 * over WebSockets, and `/config.json`, the broker's settings a page needs to talk to it. Browser-safe.
 */
import { maxPayloadBytes } from './limits.ts'
import { TOPIC_PREFIX_PATTERN } from './topics.ts'

/** MQTT over WebSockets, on the same HTTP server as the page. */
export const WEBSOCKET_PATH = '/mqtt'

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
}

/** The page config a server with these settings serves. */
export function pageConfigFor (settings: { TOPIC_PREFIX: string, MAX_JOB_BYTES: number }): PageConfig {
  return {
    topicPrefix: settings.TOPIC_PREFIX,
    maxJobBytes: settings.MAX_JOB_BYTES,
    maxPayloadBytes: maxPayloadBytes(settings.MAX_JOB_BYTES),
    mqttPath: WEBSOCKET_PATH
  }
}

/** Reads a `/config.json` body; null when it is not a page config (a page must not trust what it receives). */
export function readPageConfig (body: unknown): PageConfig | null {
  if (typeof body !== 'object' || body === null) return null
  const value = body as Record<string, unknown>
  if (typeof value.topicPrefix !== 'string' || !TOPIC_PREFIX_PATTERN.test(value.topicPrefix)) return null
  if (!isPositiveInteger(value.maxJobBytes) || !isPositiveInteger(value.maxPayloadBytes)) return null
  if (typeof value.mqttPath !== 'string' || !value.mqttPath.startsWith('/')) return null
  return { topicPrefix: value.topicPrefix, maxJobBytes: value.maxJobBytes, maxPayloadBytes: value.maxPayloadBytes, mqttPath: value.mqttPath }
}

function isPositiveInteger (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}
