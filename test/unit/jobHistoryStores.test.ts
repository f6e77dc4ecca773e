/** The job history stores of one process (memory, LevelDB), against the contract every store meets. */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { afterEach } from 'vitest'
import { LevelJobHistory } from '../../runtime/jobHistory/levelJobHistory.ts'
import { MemoryJobHistory } from '../../runtime/jobHistory/memoryJobHistory.ts'
import { describeJobHistoryStore } from './jobHistoryContract.ts'

const opened: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close()
})

describeJobHistoryStore('memory', async (limits, now) => ({ store: new MemoryJobHistory({ limits, now }) }), { persists: false })

describeJobHistoryStore('level', async (limits, now) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'printwire-history-'))
  opened.push(() => rm(dir, { recursive: true, force: true }))
  let db = new Level<string, string>(dir)
  await db.open()
  opened.push(() => db.close())
  return {
    store: new LevelJobHistory({ db, limits, now }),
    reopen: async () => {
      await db.close()
      db = new Level<string, string>(dir)
      await db.open()
      return new LevelJobHistory({ db, limits, now })
    }
  }
}, { persists: true })
