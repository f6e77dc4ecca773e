/**
 * Opening Redis (PERSISTENCE=redis) at start-up, for every part of the broker that uses it (persistence.ts,
 * tokenSecret.ts): each connection is ready before it is used, and one that cannot be opened is one
 * REDIS_UNREACHABLE error naming REDIS_URL (its password hidden) and what to do. Until a connection is open, its
 * errors are taken here: without a listener ioredis prints "[ioredis] Unhandled error event" with a stack trace for
 * each connection and attempt. Once open, the caller listens for its errors (ioredis reconnects by itself).
 */
import { Redis } from 'ioredis'
import { PrintwireError } from '../protocol/index.ts'

/** A Redis URL without its password, for logs and messages. */
export function redactRedisUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'redis://(unparsable URL)'
  }
}

/** Opens `count` connections to `url`, each ready (its INFO ready check done); all or none. */
export async function openRedis (url: string, count = 1): Promise<Redis[]> {
  const connections = Array.from({ length: count }, () => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 }))
  const firstErrors = connections.map((redis) => {
    const seen: { error?: Error } = {}
    const listener = (error: Error): void => { seen.error ??= error }
    redis.on('error', listener)
    return { seen, listener }
  })
  const opened = await Promise.allSettled(connections.map(async (redis) => { await redis.connect() }))
  const failed = opened.findIndex((outcome) => outcome.status === 'rejected')
  if (failed === -1) {
    connections.forEach((redis, i) => redis.off('error', (firstErrors[i] as { listener: (error: Error) => void }).listener))
    return connections
  }
  // (The listeners stay: a connection being dropped may still report an error.)
  for (const redis of connections) redis.disconnect()
  const rejected = opened[failed] as PromiseRejectedResult
  const reason = firstErrors[failed]?.seen.error ?? rejected.reason as Error
  throw new PrintwireError('REDIS_UNREACHABLE', `cannot reach Redis at ${redactRedisUrl(url)} (REDIS_URL, for PERSISTENCE=redis): ${reason.message}; start Redis there, or set REDIS_URL to where it runs (or PERSISTENCE=level for one broker without Redis)`, { cause: reason })
}
