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

declare module 'msgpack-lite' {
  const msgpack: { encode(value: unknown): Buffer, decode(blob: Buffer): unknown }
  export default msgpack
}

declare module 'qlobber' {
  /** A topic matcher that only says whether a topic matches (qlobber 8). */
  export class QlobberTrue {
    constructor (options: { wildcard_one: string, wildcard_some: string, separator: string, match_empty_levels: boolean })
    add (pattern: string): this
    test (topic: string): boolean
  }
}
