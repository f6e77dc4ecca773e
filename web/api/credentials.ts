/**
 * What an `Authorization` header carries (SPEC "HTTP API": HTTP Basic, or `Bearer <token>`), read without
 * checking it: the caller checks the password or the token. Anything else is `malformed`, answered 401.
 */

export type Credentials =
  | { kind: 'none' }
  | { kind: 'basic', username: string, password: string }
  | { kind: 'bearer', token: string }
  | { kind: 'malformed', reason: string }

/** A header this long is not credentials (a token naming 100 printers is about 9 KB; Node takes 16 KiB of headers). */
const MAX_HEADER_CHARS = 16_384

export function readCredentials (header: string | undefined): Credentials {
  if (header === undefined || header.trim() === '') return { kind: 'none' }
  if (header.length > MAX_HEADER_CHARS) return { kind: 'malformed', reason: 'the Authorization header is too long' }
  const [scheme = '', value = '', ...rest] = header.trim().split(/\s+/)
  if (rest.length > 0 || value === '') return { kind: 'malformed', reason: 'expected "Basic <base64>" or "Bearer <token>"' }
  switch (scheme.toLowerCase()) {
    case 'basic': return basic(value)
    case 'bearer': return /^[A-Za-z0-9._~+/=-]+$/.test(value) ? { kind: 'bearer', token: value } : { kind: 'malformed', reason: 'the bearer token holds characters a token cannot' }
    default: return { kind: 'malformed', reason: `unsupported scheme "${scheme.slice(0, 20)}": use Basic or Bearer` }
  }
}

function basic (value: string): Credentials {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return { kind: 'malformed', reason: 'Basic credentials are not base64' }
  const decoded = Buffer.from(value, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0) return { kind: 'malformed', reason: 'Basic credentials must be "user:password"' }
  return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}
