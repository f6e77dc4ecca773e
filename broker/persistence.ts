/**
 * The broker's persistence (sessions, queued QoS 1 messages, retained messages):
 * `memory`, or `level` (embedded LevelDB under DATA_DIR, survives restarts).
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { Level } from 'level'
import levelPersistence from 'aedes-persistence-level'
import type { BrokerConfig } from './config.ts'

export interface BrokerPersistence {
  /** What Aedes takes as `persistence`; undefined means Aedes' own in-memory store. */
  instance: unknown
  /** Closes the store once Aedes has closed. */
  close(): Promise<void>
  describe: string
}

export async function openPersistence (config: BrokerConfig): Promise<BrokerPersistence> {
  if (config.PERSISTENCE === 'memory') {
    return { instance: undefined, close: async () => {}, describe: 'memory (lost on restart)' }
  }
  const dir = path.resolve(config.DATA_DIR, 'broker-level')
  await mkdir(dir, { recursive: true })
  const db = new Level(dir)
  await db.open()
  const instance = levelPersistence(db) as { destroy(cb?: () => void): Promise<void> | undefined }
  return {
    instance,
    close: async () => { await new Promise<void>((resolve) => { instance.destroy(() => resolve()) }) },
    describe: `level (${dir})`
  }
}
