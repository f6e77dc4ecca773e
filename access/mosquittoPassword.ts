/**
 * Mosquitto's own password hash (mosquitto_passwd, Mosquitto 2.0): `$7$<iterations>$<salt b64>$<hash b64>`,
 * PBKDF2-HMAC-SHA512 with a 12-byte salt and a 64-byte key. AUTH_FILE keeps this next to the scrypt hash
 * because neither hash can be turned into the other: `printwire mosquitto-export` copies it into the
 * Mosquitto password_file.
 *
 * Iterations: mosquitto_passwd 2.0 uses 101; we use 1000, which Mosquitto (single-threaded) still checks in
 * about a millisecond per CONNECT, so thousands of relays reconnecting after a restart do not stall it.
 */
import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const derive = promisify(pbkdf2)
export const MOSQUITTO_ITERATIONS = 1000
const SALT_BYTES = 12
const KEY_BYTES = 64
export const MOSQUITTO_HASH_PATTERN = /^\$7\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/

export async function hashMosquittoPassword (password: string, iterations = MOSQUITTO_ITERATIONS): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, iterations, KEY_BYTES, 'sha512')
  return `$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`
}

export function isMosquittoHash (value: string): boolean {
  return MOSQUITTO_HASH_PATTERN.test(value)
}

export async function verifyMosquittoPassword (password: string, hash: string): Promise<boolean> {
  const match = MOSQUITTO_HASH_PATTERN.exec(hash)
  if (match === null) return false
  const expected = Buffer.from(match[3] as string, 'base64')
  const key = await derive(password, Buffer.from(match[2] as string, 'base64'), Number(match[1]), expected.length, 'sha512')
  return timingSafeEqual(key, expected)
}
