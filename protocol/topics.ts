/**
 * Topic names of the public contract (SPEC "Topics"). Nothing else in Printwire builds a topic string.
 * Browser-safe: no Node imports.
 */

export const DEFAULT_TOPIC_PREFIX = 'printers'
export const SERVER_TIME_TOPIC = 'server/time'
/**
 * What the embedded broker sends straight to a connected relay (to that connection alone, outside any
 * subscription, so no grant is involved) when it refuses another relay process under the same client id: the
 * same RELAY_ID used twice. A `$` topic: no client can publish or subscribe to it.
 */
export const RELAY_CONFLICT_TOPIC = '$printwire/relay-conflict'

/** A printer id: 1 to 64 characters of `A-Z a-z 0-9 _ -`. */
export const PRINTER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** A topic prefix: one or more MQTT levels with no wildcards, no empty level, no `$` start. */
export const TOPIC_PREFIX_PATTERN = /^(?!\$)[^/#+\u0000]+(\/[^/#+\u0000]+)*$/

export const PRINTER_TOPIC_KINDS = ['jobs', 'responses', 'errors', 'status', 'cancel'] as const
export type PrinterTopicKind = (typeof PRINTER_TOPIC_KINDS)[number]

export function isValidPrinterId (id: string): boolean {
  return PRINTER_ID_PATTERN.test(id)
}

export function printerTopic (prefix: string, printerId: string, kind: PrinterTopicKind): string {
  return `${prefix}/${printerId}/${kind}`
}

export const jobsTopic = (prefix: string, printerId: string): string => printerTopic(prefix, printerId, 'jobs')
export const responsesTopic = (prefix: string, printerId: string): string => printerTopic(prefix, printerId, 'responses')
export const errorsTopic = (prefix: string, printerId: string): string => printerTopic(prefix, printerId, 'errors')
export const statusTopic = (prefix: string, printerId: string): string => printerTopic(prefix, printerId, 'status')
/** `{"jobId"}` (payloads.ts `CancelRequest`): the printer's relay drops that job if it has not started printing. */
export const cancelTopic = (prefix: string, printerId: string): string => printerTopic(prefix, printerId, 'cancel')

/** Every printer's topic of one kind, e.g. `printers/+/status`. */
export function anyPrinterTopic (prefix: string, kind: PrinterTopicKind): string {
  return `${prefix}/+/${kind}`
}

export interface ParsedPrinterTopic {
  printerId: string
  kind: PrinterTopicKind
}

/** Parses `<prefix>/<id>/<kind>`; null when the topic is not a printer topic of this prefix. */
export function parsePrinterTopic (prefix: string, topic: string): ParsedPrinterTopic | null {
  if (!topic.startsWith(prefix + '/')) return null
  const rest = topic.slice(prefix.length + 1).split('/')
  if (rest.length !== 2) return null
  const [printerId, kind] = rest as [string, string]
  if (!isValidPrinterId(printerId)) return null
  if (!(PRINTER_TOPIC_KINDS as readonly string[]).includes(kind)) return null
  return { printerId, kind: kind as PrinterTopicKind }
}

/**
 * Relay client ids: `printwire-relay:<RELAY_ID>:<printer id>`. Neither part may hold a `:`, so an id names one
 * relay and one printer, unambiguously; the broker lets only relay users of that printer (and admins) use one.
 */
export const RELAY_CLIENT_ID_PREFIX = 'printwire-relay:'
/**
 * The earlier form, `printwire-relay-<RELAY_ID>-<printer id>`, was ambiguous (both parts may hold `-`): a relay
 * user of printer `bar` could take the session of relay `venue`'s printer `foo-bar`. Still reserved, for admins only.
 */
export const LEGACY_RELAY_CLIENT_ID_PREFIX = 'printwire-relay-'

const RELAY_CLIENT_ID = /^printwire-relay:([A-Za-z0-9_-]{1,64}):([A-Za-z0-9_-]{1,64})$/

/** The relay's stable client id for one printer's connection (its persistent session). */
export function relayClientId (relayId: string, printerId: string): string {
  return `${RELAY_CLIENT_ID_PREFIX}${relayId}:${printerId}`
}

/** The client id relays used before `relayClientId` (its sessions are ended by relay/legacySession.ts). */
export function legacyRelayClientId (relayId: string, printerId: string): string {
  return `${LEGACY_RELAY_CLIENT_ID_PREFIX}${relayId}-${printerId}`
}

/** Every (relay, printer) an id of the earlier form could name: it is ambiguous, both may hold `-`. */
export function legacyRelayReadings (clientId: string): Array<{ relayId: string, printerId: string }> {
  if (!clientId.startsWith(LEGACY_RELAY_CLIENT_ID_PREFIX)) return []
  const rest = clientId.slice(LEGACY_RELAY_CLIENT_ID_PREFIX.length)
  const readings: Array<{ relayId: string, printerId: string }> = []
  for (let i = rest.indexOf('-'); i !== -1; i = rest.indexOf('-', i + 1)) {
    const relayId = rest.slice(0, i)
    const printerId = rest.slice(i + 1)
    if (PRINTER_ID_PATTERN.test(relayId) && PRINTER_ID_PATTERN.test(printerId)) readings.push({ relayId, printerId })
  }
  return readings
}

/** The relay and printer of a relay client id; null for any other id, malformed relay ids included. */
export function parseRelayClientId (clientId: string): { relayId: string, printerId: string } | null {
  const match = RELAY_CLIENT_ID.exec(clientId)
  return match === null ? null : { relayId: match[1] as string, printerId: match[2] as string }
}
