/**
 * Signing secrets given as text (TOKEN_SECRET): hex, or base64 / base64url, decoding to at least
 * MIN_SECRET_BYTES bytes. A secret is random bytes, not a word: a typed pass phrase (`secret`, a repeated
 * character) is refused. The check cannot prove randomness; it refuses what is plainly not random.
 */

/** Bytes a signing secret has at least (HMAC-SHA256's key size). */
export const MIN_SECRET_BYTES = 32

/** Distinct byte values 32 random bytes have at least, but for a chance far below 1 in 2^100. */
const MIN_DISTINCT_BYTES = 16

const HEX = /^(?:[0-9a-fA-F]{2})+$/
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/

/** What a secret must look like, for error messages. */
export const SECRET_TEXT_RULE = `must be at least ${MIN_SECRET_BYTES} random bytes, as hex (${MIN_SECRET_BYTES * 2}+ characters) or base64 (e.g. \`openssl rand -base64 32\`)`

/** The secret's bytes, or undefined when `text` is not a secret (too short, not hex or base64, plainly not random). */
export function decodeSecret (text: string): Buffer | undefined {
  const trimmed = text.trim()
  let bytes: Buffer
  if (HEX.test(trimmed) && trimmed.length >= MIN_SECRET_BYTES * 2) bytes = Buffer.from(trimmed, 'hex')
  else if (BASE64.test(trimmed)) bytes = Buffer.from(trimmed, 'base64')
  else return undefined
  if (bytes.length < MIN_SECRET_BYTES || new Set(bytes).size < MIN_DISTINCT_BYTES) return undefined
  return bytes
}
