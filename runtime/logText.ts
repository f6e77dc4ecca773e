/**
 * Client-supplied text for a log line (user names, client ids, topics): cut to a length an operator can read,
 * saying how long it was, so a 64 KiB user name never goes into the log whole.
 */
export const LOG_TEXT_MAX = 128

export function forLog (value: string | undefined | null, max = LOG_TEXT_MAX): string | undefined {
  if (value === undefined || value === null) return undefined
  if (value.length <= max) return value
  return `${value.slice(0, max)}…(${value.length} chars)`
}
