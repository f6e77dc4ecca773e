/**
 * Browser tokens (SPEC "Browser tokens"): a user with the right to some printers hands a page a token that is
 * a `client` of those printers only, until it expires. Signed, never stored: the broker checks the signature,
 * so changing its secret revokes every token. Pure: the secret and the time are passed in.
 *
 * Format, compact and URL-safe: `pwt1.<body>.<signature>`
 * - `pwt1`: the format and its version (a later format is `pwt2`, refused here as UNSUPPORTED_VERSION);
 * - body: base64url of JSON `{"kid", "iss", "prn", "iat", "exp"}`: the secret's key id (8 characters of a
 *   hash of it, so a token of another secret is told apart from a forged one), the issuing user, the printers
 *   (sorted; `["*"]` for every printer), issued and expiry times in Unix seconds;
 * - signature: base64url of HMAC-SHA256(secret, `pwt1.<body>`), compared in constant time.
 * The body is readable by whoever holds the token (it is not encrypted): it holds no secret.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { isValidPrinterId, PrintwireError } from '../protocol/index.ts'
import type { Role } from './authFile.ts'

export const TOKEN_VERSION = 'pwt1'
/** Longest a token lives (SPEC: at most 24 h). */
export const MAX_TOKEN_TTL_SECONDS = 86_400
/** Printers one token may name (a token is an MQTT password: it stays small). */
export const MAX_TOKEN_PRINTERS = 100
/** Longer text is not a token of this format (100 printer ids of 64 characters, base64, plus a margin). */
const MAX_TOKEN_CHARS = 16_384

/** Any version of the format: such a password is checked as a token, never as a user's password. */
const TOKEN_SHAPE = /^pwt\d+\./
const BASE64URL = /^[A-Za-z0-9_-]+$/

const bodySchema = z.strictObject({
  kid: z.string(),
  iss: z.string().min(1).max(64),
  prn: z.array(z.string().refine((p) => p === '*' || isValidPrinterId(p))).min(1).max(MAX_TOKEN_PRINTERS),
  iat: z.number().int(),
  exp: z.number().int()
}).refine((body) => body.exp > body.iat && body.exp - body.iat <= MAX_TOKEN_TTL_SECONDS, 'lifetime out of range')

/** Who issues a token: an AUTH_FILE user. */
export interface TokenIssuer {
  name: string
  role: Role
  printers: readonly string[]
}

export interface TokenRequest {
  /** Printer ids, or `*` (every printer: only for a user who has `*`). */
  printers: readonly string[]
  /** 1 to MAX_TOKEN_TTL_SECONDS. */
  ttlSeconds: number
}

export interface IssuedToken {
  token: string
  /** ISO-8601. */
  expiresAt: string
}

/** What a valid token grants: `client` of `printers`, on behalf of `issuer`, until `expiresAt`. */
export interface TokenGrant {
  issuer: string
  printers: string[]
  /** Unix milliseconds. */
  expiresAt: number
}

/**
 * Why a token is refused: MALFORMED (not a token of this format), UNSUPPORTED_VERSION (another version),
 * OTHER_SECRET (signed with another secret: revoked by a change of secret, or from another broker),
 * BAD_SIGNATURE (forged or altered), EXPIRED (valid, but its time is over).
 */
export type TokenRefusal = 'MALFORMED' | 'UNSUPPORTED_VERSION' | 'OTHER_SECRET' | 'BAD_SIGNATURE' | 'EXPIRED'

export type TokenCheck = { ok: true, grant: TokenGrant } | { ok: false, refusal: TokenRefusal }

/** Whether `password` is meant as a token (any version): it is then never checked as a user's password. */
export function isTokenShaped (password: string | Buffer): boolean {
  return TOKEN_SHAPE.test(typeof password === 'string' ? password : password.subarray(0, 16).toString('latin1'))
}

/**
 * The user name a log-in is counted under by the log-in backoff (loginThrottle.ts): its own, or for a token
 * given without one (an HTTP Bearer token, an MQTT CONNECT without a user name) `(token)`, which cannot be a
 * user's, so a token guess always counts against its address.
 */
export function throttleNameFor (username: string | undefined, password: Buffer | undefined): string | undefined {
  return password !== undefined && isTokenShaped(password) && (username === undefined || username === '') ? '(token)' : username
}

/** The secret's key id, written in each token: not the secret, and says nothing about it. */
export function keyIdOf (secret: Buffer): string {
  return createHash('sha256').update('printwire token key id\0').update(secret).digest('base64url').slice(0, 8)
}

function sign (secret: Buffer, signed: string): Buffer {
  return createHmac('sha256', secret).update(signed).digest()
}

/**
 * Whether `issuer` may issue a token for `printers`: an admin for any; a client for its own printers (any, and
 * `*`, with `*`); a relay for none (it has no client rights).
 */
export function mayIssueFor (issuer: Pick<TokenIssuer, 'role' | 'printers'>, printers: readonly string[]): boolean {
  if (issuer.role === 'admin') return true
  if (issuer.role !== 'client') return false
  if (issuer.printers.includes('*')) return true
  return printers.every((p) => p !== '*' && issuer.printers.includes(p))
}

/**
 * A signed token for `request`. Throws PrintwireError INVALID_TOKEN_REQUEST (no printers, a bad id, a TTL out
 * of 1..MAX_TOKEN_TTL_SECONDS) or FORBIDDEN (a printer the issuer may not use as a client).
 */
export function issueToken (secret: Buffer, issuer: TokenIssuer, request: TokenRequest, now: number): IssuedToken {
  const { ttlSeconds } = request
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new PrintwireError('INVALID_TOKEN_REQUEST', `ttlSeconds must be a whole number from 1 to ${MAX_TOKEN_TTL_SECONDS} (24 h)`)
  }
  if (!Array.isArray(request.printers) || request.printers.length === 0) throw new PrintwireError('INVALID_TOKEN_REQUEST', 'printers must name at least one printer, or *')
  const bad = request.printers.find((p) => typeof p !== 'string' || (p !== '*' && !isValidPrinterId(p)))
  if (bad !== undefined) throw new PrintwireError('INVALID_TOKEN_REQUEST', `printers: ${JSON.stringify(bad).slice(0, 80)} is not a printer id (1-64 characters of A-Z a-z 0-9 _ -) or *`)
  const printers = request.printers.includes('*') ? ['*'] : [...new Set(request.printers)].sort()
  if (printers.length > MAX_TOKEN_PRINTERS) throw new PrintwireError('INVALID_TOKEN_REQUEST', `a token names at most ${MAX_TOKEN_PRINTERS} printers (or *)`)
  if (!mayIssueFor(issuer, printers)) {
    throw new PrintwireError('FORBIDDEN', issuer.role === 'relay'
      ? `${issuer.name} is a relay user: tokens are for clients, issued by a client or admin of those printers`
      : `${issuer.name} may not print on ${printers.filter((p) => !mayIssueFor(issuer, [p])).join(', ')}: a token's printers are some of its issuer's`)
  }
  const iat = Math.floor(now / 1000)
  const exp = iat + ttlSeconds
  const body = Buffer.from(JSON.stringify({ kid: keyIdOf(secret), iss: issuer.name, prn: printers, iat, exp })).toString('base64url')
  const signed = `${TOKEN_VERSION}.${body}`
  return { token: `${signed}.${sign(secret, signed).toString('base64url')}`, expiresAt: new Date(exp * 1000).toISOString() }
}

function readBody (body: string): z.infer<typeof bodySchema> | undefined {
  try {
    const parsed = bodySchema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

/** Checks `token` against `secret` at `now` (Unix ms): its grant, or why it is refused. Valid while `now` < its expiry. */
export function verifyToken (secret: Buffer, token: string, now: number): TokenCheck {
  const refuse = (refusal: TokenRefusal): TokenCheck => ({ ok: false, refusal })
  if (token.length > MAX_TOKEN_CHARS || !TOKEN_SHAPE.test(token)) return refuse('MALFORMED')
  const parts = token.split('.')
  if (parts.length !== 3) return refuse('MALFORMED')
  const [version, body, signature] = parts as [string, string, string]
  if (version !== TOKEN_VERSION) return refuse('UNSUPPORTED_VERSION')
  if (!BASE64URL.test(body) || !BASE64URL.test(signature)) return refuse('MALFORMED')
  const expected = sign(secret, `${version}.${body}`)
  const given = Buffer.from(signature, 'base64url')
  const claims = readBody(body)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    // Read only to tell the operator why: nothing of an unsigned body is trusted.
    return refuse(claims !== undefined && claims.kid !== keyIdOf(secret) ? 'OTHER_SECRET' : 'BAD_SIGNATURE')
  }
  if (claims === undefined || claims.kid !== keyIdOf(secret)) return refuse('MALFORMED')
  const expiresAt = claims.exp * 1000
  if (now >= expiresAt) return refuse('EXPIRED')
  return { ok: true, grant: { issuer: claims.iss, printers: claims.prn, expiresAt } }
}

/**
 * The name a token's connection goes by in the broker (its grants, client id ownership, logs):
 * `token:<issuer>:<printers>`. Neither `:` nor `,` can be in a user name or printer id, so it is never an
 * AUTH_FILE user's name, and it says exactly what the token grants.
 */
export function tokenPrincipal (grant: Pick<TokenGrant, 'issuer' | 'printers'>): string {
  return `token:${grant.issuer}:${grant.printers.join(',')}`
}

/** The issuer and printers of a name made by `tokenPrincipal`, or undefined for any other name. */
export function parseTokenPrincipal (name: string): { issuer: string, printers: string[] } | undefined {
  const match = /^token:([^:]+):([^:]+)$/.exec(name)
  if (match === null) return undefined
  return { issuer: match[1] as string, printers: (match[2] as string).split(',') }
}

export function isTokenPrincipal (name: string | undefined): boolean {
  return name !== undefined && parseTokenPrincipal(name) !== undefined
}
