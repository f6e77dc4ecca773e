/**
 * broker/aedes/retainedReads.ts: a SUBSCRIBE's retained messages read by the literal part of each pattern give
 * exactly what aedes-persistence-level's own full scan gives, in the same order: on a real LevelDB, with the
 * messages stored through a real Aedes broker.
 */
import { Aedes } from 'aedes'
import levelPersistence from 'aedes-persistence-level'
import { Level } from 'level'
import type { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { narrowRetainedReads, readPlan } from '../../broker/aedes/retainedReads.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

interface RetainedReader { createRetainedStreamCombi(patterns: string[]): Readable, createRetainedStream(pattern: string): Readable }

const TOPICS = [
  'a', 'a/', 'a/b', 'a/b/c', 'a/ü', 'a0', 'ab/x', 'x/a', 'x/b', '/lead', 'printers/p1/status', 'printers/p2/status',
  'printers/p10/status', 'printers/p1/jobs', 'printers/p1', 'ünï/côdé', 'ünï/x/y', '$SYS/broker/uptime'
]

async function read (stream: Readable): Promise<string[]> {
  const seen: string[] = []
  for await (const packet of stream) seen.push(`${(packet as { topic: string }).topic}=${String((packet as { payload: Buffer }).payload)}`)
  return seen
}

describe('retained reads by pattern', () => {
  it('plans one lookup for a topic, a key range under the literal levels for a wildcard, and the parent for #', () => {
    expect(readPlan('printers/p1/jobs')).toEqual({ exact: ['printers/p1/jobs'] })
    expect(readPlan('printers/+/status')).toEqual({ exact: [], prefix: 'printers/' })
    expect(readPlan('a/b/#')).toEqual({ exact: ['a/b'], prefix: 'a/b/' })
    expect(readPlan('#')).toEqual({ exact: [], prefix: '' })
    expect(readPlan('+/a')).toEqual({ exact: [], prefix: '' })
  })

  it('finds what the full scan finds, in the same order, for every kind of pattern', async () => {
    const dir = await tempDir(cleanup)
    const db = new Level<string, string>(dir)
    await db.open()
    cleanup.defer(() => db.close())
    const stored = levelPersistence(db)
    const broker = await Aedes.createBroker({ persistence: stored as never })
    cleanup.defer(() => new Promise<void>((resolve) => broker.close(() => resolve())))
    for (const topic of TOPICS) {
      await (broker as unknown as { persistence: { storeRetained(packet: object): Promise<void> } }).persistence
        .storeRetained({ cmd: 'publish', topic, payload: Buffer.from(`v-${topic}`), qos: 1, retain: true, dup: false, brokerId: broker.id, brokerCounter: 1 })
    }
    const full = levelPersistence(db) as RetainedReader
    const narrow = levelPersistence(db) as RetainedReader
    narrowRetainedReads(narrow, db)

    const cases: Array<{ patterns: string[], expected?: string[] }> = [
      { patterns: ['printers/p1/jobs'], expected: ['printers/p1/jobs'] },
      { patterns: ['printers/+/status'], expected: ['printers/p1/status', 'printers/p10/status', 'printers/p2/status'] },
      { patterns: ['a/#'], expected: ['a', 'a/', 'a/b', 'a/b/c', 'a/ü'] },
      { patterns: ['a/+'], expected: ['a/', 'a/b', 'a/ü'] },
      { patterns: ['+/a'], expected: ['x/a'] },
      { patterns: ['+/#'] },
      { patterns: ['#'] },
      { patterns: ['+'] },
      { patterns: ['/+'], expected: ['/lead'] },
      { patterns: ['ünï/#'], expected: ['ünï/côdé', 'ünï/x/y'] },
      { patterns: ['printers/p1/+'], expected: ['printers/p1/jobs', 'printers/p1/status'] },
      { patterns: ['nothing/here', 'nothing/+'], expected: [] },
      { patterns: ['a/+', 'printers/p1/status', 'a/b'], expected: ['a/', 'a/b', 'a/ü', 'printers/p1/status', 'a/b'] }
    ]
    for (const { patterns, expected } of cases) {
      const want = await read(full.createRetainedStreamCombi(patterns))
      const got = await read(narrow.createRetainedStreamCombi(patterns))
      expect(got, patterns.join(' ')).toEqual(want)
      if (expected !== undefined) expect(got.map((line) => line.split('=')[0]), patterns.join(' ')).toEqual(expected)
      else expect(got.length, patterns.join(' ')).toBeGreaterThan(0)
      if (patterns.length === 1) expect(await read(narrow.createRetainedStream(patterns[0] as string))).toEqual(want)
    }
    // Payloads come back as stored.
    expect(await read(narrow.createRetainedStreamCombi(['a/b']))).toEqual(['a/b=v-a/b'])
  })
})
