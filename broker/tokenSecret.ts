/**
 * The secret that signs browser tokens (access/tokens.ts), found once at start-up:
 * - TOKEN_SECRET, when set;
 * - otherwise kept with the broker's data, made the first time: with PERSISTENCE=level a file `token-secret` in
 *   DATA_DIR (mode 0600), with PERSISTENCE=redis the key `printwire:token-secret` in Redis (SET NX: every broker
 *   process on that Redis takes the one the first made, so all accept the same tokens);
 * - with PERSISTENCE=memory, one of this process only: tokens end when the broker restarts, as its sessions do.
 * Deleting the file or key (or changing TOKEN_SECRET) and restarting revokes every token. The secret is never
 * logged; only where it came from.
 */
import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Redis } from 'ioredis'
import { PrintwireError } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { decodeSecret, MIN_SECRET_BYTES, SECRET_TEXT_RULE } from '../runtime/secretText.ts'
import type { BrokerConfig } from './config.ts'

export const TOKEN_SECRET_FILE = 'token-secret'
export const TOKEN_SECRET_REDIS_KEY = 'printwire:token-secret'

export interface TokenSecret {
  secret: Buffer
  /** Where it came from, for the start-up log. */
  source: string
}

function newSecretText (): string {
  return randomBytes(MIN_SECRET_BYTES).toString('base64url')
}

function invalidStored (where: string): PrintwireError<'INVALID_CONFIG'> {
  return new PrintwireError('INVALID_CONFIG', `the token secret in ${where} is not valid (it ${SECRET_TEXT_RULE}): delete it to make a new one (this revokes every token), or set TOKEN_SECRET`)
}

/** The file's secret, made (complete, mode 0600) if there is none: a half-written file is never read. */
async function fromDataDir (dir: string, logger: Logger): Promise<TokenSecret> {
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

async function fromRedis (url: string): Promise<TokenSecret> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 })
  try {
    await redis.connect()
    await redis.set(TOKEN_SECRET_REDIS_KEY, newSecretText(), 'NX')
    const text = await redis.get(TOKEN_SECRET_REDIS_KEY)
    const secret = text === null ? undefined : decodeSecret(text)
    if (secret === undefined) throw invalidStored(`Redis key ${TOKEN_SECRET_REDIS_KEY}`)
    return { secret, source: `Redis key ${TOKEN_SECRET_REDIS_KEY}` }
  } finally {
    redis.disconnect()
  }
}

/** The token secret for this broker's configuration (only needed with AUTH_FILE: without users, tokens limit nothing). */
export async function loadTokenSecret (config: BrokerConfig, logger: Logger): Promise<TokenSecret> {
  if (config.TOKEN_SECRET !== undefined) {
    const secret = decodeSecret(config.TOKEN_SECRET)
    if (secret === undefined) throw new PrintwireError('INVALID_CONFIG', `TOKEN_SECRET ${SECRET_TEXT_RULE}`)
    return { secret, source: 'TOKEN_SECRET' }
  }
  if (config.PERSISTENCE === 'redis') return await fromRedis(config.REDIS_URL)
  if (config.PERSISTENCE === 'level') return await fromDataDir(config.DATA_DIR, logger)
  return { secret: randomBytes(MIN_SECRET_BYTES), source: 'this process (PERSISTENCE=memory: tokens end at restart; set TOKEN_SECRET to keep them)' }
}
