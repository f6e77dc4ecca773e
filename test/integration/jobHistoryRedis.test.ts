/** broker/redisJobHistory.ts against the contract every job history store meets, on a real redis-server. */
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { RedisJobHistory } from '../../broker/redisJobHistory.ts'
import { startRedis, type RedisServer } from '../../harness/redisServer.ts'
import { describeJobHistoryStore } from '../unit/jobHistoryContract.ts'

let server: RedisServer
const connections: Redis[] = []
let made = 0

beforeAll(async () => { server = await startRedis() })
afterAll(async () => { await server.stop() })
afterEach(async () => {
  for (const redis of connections.splice(0)) await redis.quit()
})

function connect (): Redis {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 })
  connections.push(redis)
  return redis
}

describeJobHistoryStore('redis', async (limits, now) => {
  // Each test its own keys on the one server.
  const prefix = `test-${++made}:`
  return {
    store: new RedisJobHistory({ redis: connect(), limits, now, prefix }),
    reopen: async () => new RedisJobHistory({ redis: connect(), limits, now, prefix })
  }
}, { persists: true })
