declare module 'aedes-persistence-level' {
  import type { AbstractLevel } from 'abstract-level'
  /** Aedes persistence on a LevelDB instance (callback-style persistence object). */
  export default function aedesPersistenceLevel (db: AbstractLevel<any, any, any>): unknown
}
