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
import type { Redis } from 'ioredis'
import { openRedis } from './redisConnection.ts'
import { invalidStored, newSecretText, secretFromText, secretInDir, type TokenSecret } from '../access/tokenSecretFile.ts'
import type { Logger } from '../runtime/logger.ts'
import { decodeSecret, MIN_SECRET_BYTES } from '../runtime/secretText.ts'
import type { BrokerConfig } from './config.ts'

export { TOKEN_SECRET_FILE, type TokenSecret } from '../access/tokenSecretFile.ts'
export const TOKEN_SECRET_REDIS_KEY = 'printwire:token-secret'

async function fromRedis (url: string): Promise<TokenSecret> {
  const [redis] = await openRedis(url) as [Redis]
  redis.on('error', () => {}) // (a failure of the commands below is thrown)
  try {
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
  if (config.TOKEN_SECRET !== undefined) return secretFromText(config.TOKEN_SECRET)
  if (config.PERSISTENCE === 'redis') return await fromRedis(config.REDIS_URL)
  if (config.PERSISTENCE === 'level') return await secretInDir(config.DATA_DIR, logger)
  return { secret: randomBytes(MIN_SECRET_BYTES), source: 'this process (PERSISTENCE=memory: tokens end at restart; set TOKEN_SECRET to keep them)' }
}
