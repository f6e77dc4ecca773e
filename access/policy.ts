/**
 * Who may do what (SPEC "Access"), as data: each user's grants are MQTT topic filters with an access
 * kind. The Aedes hooks check topics against these grants, and `mosquitto-export` writes the very same
 * grants as Mosquitto ACL lines, so both brokers enforce one set of rules.
 *
 * - client: publish its printers' `jobs` and `cancel`; read their `responses`, `errors`, `status`, and `server/time`.
 * - relay: read its printers' `jobs` and `cancel`, and `server/time` (it judges `expiresAt` by the broker's clock);
 *   publish their `responses`, `errors`, `status` (its Last Will too).
 * - admin: everything, `$SYS` included.
 * `*` in a user's printers becomes the `+` wildcard, which matches one printer id level.
 */
import { printerTopic, SERVER_TIME_TOPIC, type PrinterTopicKind } from '../protocol/index.ts'
import type { AuthUser } from './authFile.ts'

export type Access = 'read' | 'write'

export interface Grant {
  access: Access
  /** An MQTT topic filter (may hold `+` and `#`). */
  filter: string
}

/** What a client sends its printers' relay, and what the relay reads: the same grants (SPEC "No relay, cancel"). */
const REQUESTS: PrinterTopicKind[] = ['jobs', 'cancel']
const CLIENT_READS: PrinterTopicKind[] = ['responses', 'errors', 'status']
const RELAY_WRITES: PrinterTopicKind[] = ['responses', 'errors', 'status']

export function grantsFor (user: Pick<AuthUser, 'role' | 'printers'>, prefix: string): Grant[] {
  if (user.role === 'admin') {
    return [{ access: 'read', filter: '#' }, { access: 'write', filter: '#' }, { access: 'read', filter: '$SYS/#' }]
  }
  const ids = user.printers.includes('*') ? ['+'] : user.printers
  const grants: Grant[] = []
  for (const id of ids) {
    if (user.role === 'client') {
      for (const kind of REQUESTS) grants.push({ access: 'write', filter: printerTopic(prefix, id, kind) })
      for (const kind of CLIENT_READS) grants.push({ access: 'read', filter: printerTopic(prefix, id, kind) })
    } else {
      for (const kind of REQUESTS) grants.push({ access: 'read', filter: printerTopic(prefix, id, kind) })
      for (const kind of RELAY_WRITES) grants.push({ access: 'write', filter: printerTopic(prefix, id, kind) })
    }
  }
  grants.push({ access: 'read', filter: SERVER_TIME_TOPIC })
  return grants
}

/** MQTT matching of a concrete topic against a filter, `$` topics hidden from leading wildcards [MQTT-4.7.2-1]. */
export function topicMatches (filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

/** Whether two filters can both match some topic: a subscription that overlaps no grant can never deliver anything. */
export function filtersOverlap (a: string, b: string): boolean {
  const x = a.split('/')
  const y = b.split('/')
  const dollar = (levels: string[]): boolean => levels[0]?.startsWith('$') === true
  const leadingWildcard = (levels: string[]): boolean => levels[0] === '+' || levels[0] === '#'
  if ((dollar(x) && leadingWildcard(y)) || (dollar(y) && leadingWildcard(x))) return false
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i]
    const q = y[i]
    if (p === '#' || q === '#') return true
    if (p === undefined || q === undefined) return false
    if (p !== '+' && q !== '+' && p !== q) return false
  }
  return true
}

export function mayPublish (grants: readonly Grant[], topic: string): boolean {
  return grants.some((g) => g.access === 'write' && topicMatches(g.filter, topic))
}

export function mayRead (grants: readonly Grant[], topic: string): boolean {
  return grants.some((g) => g.access === 'read' && topicMatches(g.filter, topic))
}

/** A subscription is granted when it can match something the user may read; delivery is still checked per message. */
export function maySubscribe (grants: readonly Grant[], filter: string): boolean {
  return grants.some((g) => g.access === 'read' && filtersOverlap(g.filter, filter))
}

const hasWildcard = (filter: string): boolean => filter.includes('+') || filter.includes('#')

/**
 * For a wildcard filter, the concrete topics it can deliver to this user, when that is all it can deliver
 * (every read grant it overlaps is one topic: a client's own printers): subscribing to those topics is then the
 * same, for this user, as subscribing to the filter. Undefined when the filter has no wildcard, or when what
 * it can deliver has wildcards itself (admin, or `*` printers).
 */
export function readableTopicsOf (grants: readonly Grant[], filter: string): string[] | undefined {
  if (!hasWildcard(filter)) return undefined
  const overlapping = grants.filter((g) => g.access === 'read' && filtersOverlap(g.filter, filter))
  if (overlapping.length === 0 || overlapping.some((g) => hasWildcard(g.filter))) return undefined
  return [...new Set(overlapping.map((g) => g.filter))]
}
