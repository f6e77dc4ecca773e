/** What one synced LevelDB write costs on this machine's disk: the floor under every durable step of the relay. */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { nowMs } from './stats.ts'

export async function syncedWriteLatencies (count: number): Promise<number[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'printwire-bench-sync-'))
  const db = new Level<string, string>(dir)
  try {
    await db.open()
    const latencies: number[] = []
    const value = 'x'.repeat(300)
    for (let i = 0; i < count; i++) {
      const started = nowMs()
      await db.batch([{ type: 'put', key: `k${i}`, value }], { sync: true })
      latencies.push(nowMs() - started)
    }
    return latencies
  } finally {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}
