/**
 * Password hashes for AUTH_FILE: scrypt (node:crypto), never plain text. Format:
 * `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`, so the cost can rise later without breaking old entries.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

const N = 16384
const R = 8
const P = 1
const KEY_BYTES = 32
const HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/

function derive (password: string, salt: Buffer, n: number, r: number, p: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (error, key) => {
      if (error) reject(error)
      else resolve(key)
    })
  })
}

export async function hashPassword (password: string): Promise<string> {
  if (password.length === 0) throw new Error('the password must not be empty')
  const salt = randomBytes(16)
  const key = await derive(password, salt, N, R, P, KEY_BYTES)
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`
}

export function isPasswordHash (value: string): boolean {
  return HASH_PATTERN.test(value)
}

/** True when `password` matches `hash`; false for a wrong password or a malformed hash. Constant-time compare. */
export async function verifyPassword (password: string, hash: string): Promise<boolean> {
  const match = HASH_PATTERN.exec(hash)
  if (match === null) return false
  const [, n, r, p, salt, expected] = match as unknown as [string, string, string, string, string, string]
  const expectedKey = Buffer.from(expected, 'base64')
  const key = await derive(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p), expectedKey.length)
  return key.length === expectedKey.length && timingSafeEqual(key, expectedKey)
}
