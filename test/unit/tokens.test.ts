/**
 * Browser tokens (access/tokens.ts, SPEC "Browser tokens"): issued for some of the issuer's printers, for at
 * most 24 h; refused once expired, altered, signed with another secret, of another version, or not a token.
 * Fixed secrets and times: no clock, no sockets.
 */
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isTokenPrincipal, isTokenShaped, issueToken, keyIdOf, mayIssueFor, parseTokenPrincipal, throttleNameFor, tokenPrincipal, verifyToken, type TokenIssuer } from '../../access/tokens.ts'
import { isPrintwireError } from '../../protocol/index.ts'
import { decodeSecret } from '../../runtime/secretText.ts'

const SECRET = Buffer.from('00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex')
const OTHER = Buffer.from('ffeeddccbbaa99887766554433221100f0e1d2c3b4a5968778695a4b3c2d1e0f', 'hex')
const NOW = Date.parse('2026-11-30T12:00:00.000Z')
const alice: TokenIssuer = { name: 'alice', role: 'client', printers: ['lobby', 'bar'] }
const ops: TokenIssuer = { name: 'ops', role: 'admin', printers: ['*'] }

function issued (printers: string[] = ['lobby'], ttlSeconds = 600, issuer = alice, secret = SECRET): string {
  return issueToken(secret, issuer, { printers, ttlSeconds }, NOW).token
}

function refusalOf (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return isPrintwireError(error) ? error.code : String(error)
  }
  return undefined
}

/** `token` with its body replaced by `body` (JSON), signature kept. */
function withBody (token: string, body: unknown): string {
  const [version, , signature] = token.split('.')
  return `${version}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${signature}`
}

function bodyOf (token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>
}

describe('issuing a token', () => {
  it('is compact, URL-safe, versioned, and says when it expires', () => {
    const { token, expiresAt } = issueToken(SECRET, alice, { printers: ['lobby'], ttlSeconds: 600 }, NOW)
    expect(token).toMatch(/^pwt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
    expect(token.length).toBeLessThan(200)
    expect(expiresAt).toBe('2026-11-30T12:10:00.000Z')
    expect(bodyOf(token)).toEqual({ kid: keyIdOf(SECRET), iss: 'alice', prn: ['lobby'], iat: NOW / 1000, exp: NOW / 1000 + 600 })
    expect(encodeURIComponent(token)).toBe(token)
  })

  it('sorts and dedupes the printers, and keeps * alone', () => {
    expect(bodyOf(issued(['lobby', 'bar', 'lobby'])).prn).toEqual(['bar', 'lobby'])
    expect(bodyOf(issued(['*', 'bar'], 60, ops)).prn).toEqual(['*'])
  })

  it.each([
    ['a client, its own printers', alice, ['lobby', 'bar'], undefined],
    ['a client, another printer', alice, ['lobby', 'kitchen'], 'FORBIDDEN'],
    ['a client of some printers, *', alice, ['*'], 'FORBIDDEN'],
    ['a * client, any printer', { name: 'box', role: 'client', printers: ['*'] }, ['kitchen'], undefined],
    ['a * client, *', { name: 'box', role: 'client', printers: ['*'] }, ['*'], undefined],
    ['an admin, *', ops, ['*'], undefined],
    ['an admin of listed printers, any printer', { name: 'ops2', role: 'admin', printers: ['lobby'] }, ['kitchen'], undefined],
    ['a relay, its own printer', { name: 'relay-lobby', role: 'relay', printers: ['lobby'] }, ['lobby'], 'FORBIDDEN'],
    ['a relay of *, any printer', { name: 'relay-all', role: 'relay', printers: ['*'] }, ['lobby'], 'FORBIDDEN']
  ] as Array<[string, TokenIssuer, string[], string | undefined]>)('subset rule: %s', (_what, issuer, printers, refusal) => {
    expect(mayIssueFor(issuer, printers)).toBe(refusal === undefined)
    expect(refusalOf(() => issueToken(SECRET, issuer, { printers, ttlSeconds: 60 }, NOW))).toBe(refusal)
  })

  it.each([
    ['a TTL of 0', ['lobby'], 0],
    ['a TTL over 24 h', ['lobby'], 86_401],
    ['a fractional TTL', ['lobby'], 1.5],
    ['a TTL that is not a number', ['lobby'], '60' as unknown as number],
    ['no printers', [], 60],
    ['a bad printer id', ['lob by'], 60],
    ['a wildcard that is not *', ['+'], 60],
    ['101 printers', Array.from({ length: 101 }, (_, i) => `p${i}`), 60]
  ])('refuses %s as INVALID_TOKEN_REQUEST', (_what, printers, ttlSeconds) => {
    const issuer: TokenIssuer = { name: 'ops', role: 'admin', printers: ['*'] }
    expect(refusalOf(() => issueToken(SECRET, issuer, { printers, ttlSeconds }, NOW))).toBe('INVALID_TOKEN_REQUEST')
  })

  it('takes the limits themselves: 1 s and 24 h', () => {
    expect(verifyToken(SECRET, issued(['lobby'], 1), NOW).ok).toBe(true)
    expect(verifyToken(SECRET, issued(['lobby'], 86_400), NOW + 86_399_000).ok).toBe(true)
  })
})

describe('checking a token', () => {
  it('grants the client role on its printers until it expires, not one second after', () => {
    const token = issued(['lobby', 'bar'], 600)
    expect(verifyToken(SECRET, token, NOW)).toEqual({ ok: true, grant: { issuer: 'alice', printers: ['bar', 'lobby'], expiresAt: NOW + 600_000 } })
    expect(verifyToken(SECRET, token, NOW + 599_999).ok).toBe(true)
    expect(verifyToken(SECRET, token, NOW + 600_000)).toEqual({ ok: false, refusal: 'EXPIRED' })
    expect(verifyToken(SECRET, token, NOW + 601_000)).toEqual({ ok: false, refusal: 'EXPIRED' })
  })

  it('refuses a token signed with another secret, saying so', () => {
    expect(verifyToken(SECRET, issued(['lobby'], 600, alice, OTHER), NOW)).toEqual({ ok: false, refusal: 'OTHER_SECRET' })
  })

  it('refuses an altered body: other printers, a later expiry, another issuer', () => {
    const token = issued(['lobby'])
    const body = bodyOf(token)
    for (const change of [{ prn: ['bar'] }, { prn: ['*'] }, { exp: (body.exp as number) + 3600 }, { iss: 'ops' }]) {
      expect(verifyToken(SECRET, withBody(token, { ...body, ...change }), NOW)).toEqual({ ok: false, refusal: 'BAD_SIGNATURE' })
    }
  })

  it('refuses an altered signature, a truncated one and a missing one', () => {
    const token = issued()
    const last = token.at(-2) === 'A' ? 'B' : 'A'
    expect(verifyToken(SECRET, `${token.slice(0, -2)}${last}${token.at(-1)}`, NOW)).toEqual({ ok: false, refusal: 'BAD_SIGNATURE' })
    expect(verifyToken(SECRET, token.slice(0, -4), NOW)).toEqual({ ok: false, refusal: 'BAD_SIGNATURE' })
    expect(verifyToken(SECRET, token.slice(0, token.lastIndexOf('.') + 1), NOW)).toEqual({ ok: false, refusal: 'MALFORMED' })
  })

  it('refuses another version, even well signed', () => {
    const token = issued()
    const body = token.split('.')[1] as string
    const signature = createHmac('sha256', SECRET).update(`pwt2.${body}`).digest('base64url')
    expect(verifyToken(SECRET, `pwt2.${body}.${signature}`, NOW)).toEqual({ ok: false, refusal: 'UNSUPPORTED_VERSION' })
  })

  it.each([
    ['empty', ''],
    ['a password', 'alice-pw'],
    ['two parts', 'pwt1.abc'],
    ['four parts', 'pwt1.a.b.c'],
    ['not base64url', 'pwt1.a+b.c/d'],
    ['huge', `pwt1.${'a'.repeat(20_000)}.b`]
  ])('refuses what is not a token (%s) as MALFORMED', (_what, text) => {
    expect(verifyToken(SECRET, text, NOW)).toEqual({ ok: false, refusal: 'MALFORMED' })
  })

  it('refuses a well-signed body that is not a valid token body', () => {
    const sign = (body: unknown): string => {
      const text = `pwt1.${Buffer.from(JSON.stringify(body)).toString('base64url')}`
      return `${text}.${createHmac('sha256', SECRET).update(text).digest('base64url')}`
    }
    const good = { kid: keyIdOf(SECRET), iss: 'alice', prn: ['lobby'], iat: NOW / 1000, exp: NOW / 1000 + 60 }
    expect(verifyToken(SECRET, sign(good), NOW).ok).toBe(true)
    for (const bad of [{ ...good, exp: good.iat + 86_401 }, { ...good, prn: ['#'] }, { ...good, role: 'admin' }, { ...good, kid: 'x' }, 'text']) {
      expect(verifyToken(SECRET, sign(bad), NOW)).toEqual({ ok: false, refusal: 'MALFORMED' })
    }
  })
})

describe('around tokens', () => {
  it('tells a token-shaped password from a user\'s', () => {
    expect(isTokenShaped(issued())).toBe(true)
    expect(isTokenShaped(Buffer.from('pwt2.x'))).toBe(true)
    expect(isTokenShaped('alice-pw')).toBe(false)
    expect(isTokenShaped('pwt.x')).toBe(false)
  })

  it('counts a token given without a user name under one no user can have', () => {
    expect(throttleNameFor(undefined, Buffer.from(issued()))).toBe('(token)')
    expect(throttleNameFor('', Buffer.from(issued()))).toBe('(token)')
    expect(throttleNameFor('page', Buffer.from(issued()))).toBe('page')
    expect(throttleNameFor('alice', Buffer.from('alice-pw'))).toBe('alice')
    expect(throttleNameFor('', Buffer.from('alice-pw'))).toBe('')
  })

  it('names a token\'s connection so that it is never a user name, and reads the name back', () => {
    const name = tokenPrincipal({ issuer: 'alice', printers: ['bar', 'lobby'] })
    expect(name).toBe('token:alice:bar,lobby')
    expect(parseTokenPrincipal(name)).toEqual({ issuer: 'alice', printers: ['bar', 'lobby'] })
    expect(isTokenPrincipal(name)).toBe(true)
    expect(isTokenPrincipal('alice')).toBe(false)
    expect(isTokenPrincipal(undefined)).toBe(false)
  })

  it.each([
    ['64 hex characters', '00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0', 32],
    ['base64 of 32 bytes', 'DxstPEtaaXiHlqW0w9Lh8AESIzRFVmd4iZqrvM3e7/8=', 32],
    ['base64url of 32 bytes', 'DxstPEtaaXiHlqW0w9Lh8AESIzRFVmd4iZqrvM3e7_8', 32],
    ['31 bytes', 'DxstPEtaaXiHlqW0w9Lh8AESIzRFVmd4iZqrvM3e7w==', undefined],
    ['a word', 'secret', undefined],
    ['a long repeated character', 'a'.repeat(64), undefined],
    ['a sentence', 'correct horse battery staple and more words', undefined]
  ])('takes a signing secret given as %s', (_what, text, bytes) => {
    expect(decodeSecret(text)?.length).toBe(bytes)
  })
})
