/**
 * Strings a client chose (user names, client ids, Origin headers) go into logs clipped: a 64 KiB user name
 * must not become a 64 KiB log line, nor fill the operator's disk one refused log-in at a time.
 */

/** Characters of a client-supplied string kept in a log line. */
export const LOGGED_TEXT_MAX_CHARS = 64

/** `text` cut to `max` characters, with how much was cut said at its end; undefined stays undefined. */
export function clipForLog (text: string | undefined, max = LOGGED_TEXT_MAX_CHARS): string | undefined {
  if (text === undefined || text.length <= max) return text
  return `${text.slice(0, max)}…(${text.length - max} more chars)`
}
