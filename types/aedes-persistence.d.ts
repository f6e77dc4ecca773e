declare module 'aedes-persistence-level' {
  import type { AbstractLevel } from 'abstract-level'
  /** Aedes persistence on a LevelDB instance (callback-style persistence object). */
  export default function aedesPersistenceLevel (db: AbstractLevel<any, any, any>): unknown
}

declare module 'aedes-persistence-redis' {
  import type { Redis, RedisOptions } from 'ioredis'
  /** Aedes persistence in Redis (callback-style persistence object). */
  export default function aedesPersistenceRedis (options: RedisOptions & { conn?: Redis, maxSessionDelivery?: number }): unknown
}
