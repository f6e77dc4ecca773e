/**
 * The parts of finding the browser-token signing secret (access/tokens.ts) that need no broker store: TOKEN_SECRET
 * given as text, or a secret made once and kept in a file `token-secret` in a data directory (mode 0600). The
 * broker adds Redis (broker/tokenSecret.ts); the web server in Mosquitto mode uses these two. The secret is
 * never logged; only where it came from.
 */
import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PrintwireError } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { decodeSecret, MIN_SECRET_BYTES, SECRET_TEXT_RULE } from '../runtime/secretText.ts'

export const TOKEN_SECRET_FILE = 'token-secret'

export interface TokenSecret {
  secret: Buffer
  /** Where it came from, for the start-up log. */
  source: string
}

export function newSecretText (): string {
  return randomBytes(MIN_SECRET_BYTES).toString('base64url')
}

export function invalidStored (where: string): PrintwireError<'INVALID_CONFIG'> {
  return new PrintwireError('INVALID_CONFIG', `the token secret in ${where} is not valid (it ${SECRET_TEXT_RULE}): delete it to make a new one (this revokes every token), or set TOKEN_SECRET`)
}

/** TOKEN_SECRET's bytes (validated with the configuration already; checked again here for a direct caller). */
export function secretFromText (text: string): TokenSecret {
  const secret = decodeSecret(text)
  if (secret === undefined) throw new PrintwireError('INVALID_CONFIG', `TOKEN_SECRET ${SECRET_TEXT_RULE}`)
  return { secret, source: 'TOKEN_SECRET' }
}

/** The file's secret, made (complete, mode 0600) if there is none: a half-written file is never read. */
export async function secretInDir (dir: string, logger: Logger): Promise<TokenSecret> {
  await mkdir(dir, { recursive: true })
  const file = path.resolve(dir, TOKEN_SECRET_FILE)
  const temp = `${file}.${process.pid}.tmp`
  await writeFile(temp, newSecretText() + '\n', { mode: 0o600, flush: true })
  try {
    await link(temp, file)
    logger.info({ file }, 'browser tokens: made a signing secret')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    await unlink(temp)
  }
  if (((await stat(file)).mode & 0o077) !== 0) logger.warn({ file }, 'the token secret file can be read by other users of this machine: chmod 600 it')
  const secret = decodeSecret(await readFile(file, 'utf8'))
  if (secret === undefined) throw invalidStored(file)
  return { secret, source: file }
}
