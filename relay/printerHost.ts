/**
 * What a printer's host in PRINTERS may be: an IPv4 address (four numbers of 0-255), an IPv6 address (written in
 * brackets in PRINTERS), or a host name by RFC 1123 (labels of letters, digits and hyphens, 1-63 characters, not
 * starting or ending with a hyphen, 253 characters in all, the last label not all digits: `192.168.1.500` is
 * neither an address nor a name). A mistake here is refused at start-up, naming PRINTERS, rather than met later
 * as ENOTFOUND on every print.
 */
import { isIPv4, isIPv6 } from 'node:net'

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

/** True for a host name by RFC 1123 (`printer.venue.lan`, `localhost`, `boca-1.`). */
export function isHostName (host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split('.')
  return labels.every((label) => LABEL.test(label)) && !/^\d+$/.test(labels[labels.length - 1] ?? '')
}

/**
 * Why `host` (as written in PRINTERS, an IPv6 address still in brackets) is not a printer host, or undefined when
 * it is one.
 */
export function printerHostProblem (host: string): string | undefined {
  if (host.startsWith('[') && host.endsWith(']')) {
    return isIPv6(host.slice(1, -1)) ? undefined : `"${host}" is not an IPv6 address`
  }
  if (isIPv4(host) || isHostName(host)) return undefined
  if (/[;= ]/.test(host)) return `host "${host}" is not an address or a host name: separate printers with "," (e.g. lobby=192.168.1.50,bar=192.168.1.51)`
  if (/^[\d.]+$/.test(host)) return `host "${host}" is not an IPv4 address (four numbers of 0-255)`
  return `host "${host}" is not an IPv4 address, an IPv6 address in brackets ([fe80::1]) or a host name (letters, digits, "-" and ".")`
}
