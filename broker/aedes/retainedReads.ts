/**
 * Retained messages for a SUBSCRIBE, read from LevelDB by the literal part of each pattern only.
 *
 * aedes-persistence-level 9 answers `createRetainedStreamCombi` by reading and decoding every retained
 * message for each pattern and keeping the matching ones. With a retained status per printer, a relay's
 * SUBSCRIBE to `printers/<id>/jobs` then costs as much as all the printers together, and connecting N relays
 * costs N² (BENCHMARKS.md, "Scale"). Here a pattern without
 * wildcards is one key lookup, and a pattern with them reads only the keys under its literal first levels
 * and decodes only the messages whose key (the topic) matches, with the same matcher as the module's and in
 * the same order: what a client is sent does not change, only what is read to find it.
 */
import { Readable } from 'node:stream'
import type { Level } from 'level'
import msgpack from 'msgpack-lite'
import { QlobberTrue } from 'qlobber'

/** aedes-persistence-level's key prefix and matcher options (asyncPersistence.js). */
const RETAINED = 'retained:'
const QLOBBER_OPTIONS = { wildcard_one: '+', wildcard_some: '#', separator: '/', match_empty_levels: true }

type Db = Level<string, string>
interface RetainedPacket { topic: string }

/** What to read for a pattern: exact keys, and key ranges (by topic prefix ending in '/', or '' for all). */
export function readPlan (pattern: string): { exact: string[], prefix?: string } {
  const levels = pattern.split('/')
  const wildcard = levels.findIndex((level) => level === '+' || level === '#')
  if (wildcard === -1) return { exact: [pattern] }
  const literal = levels.slice(0, wildcard)
  const prefix = literal.map((level) => `${level}/`).join('')
  // `a/#` also matches `a` itself, which is not under `a/`.
  const exact = levels[wildcard] === '#' && wildcard > 0 ? [literal.join('/')] : []
  return { exact, prefix }
}

async function * retainedFor (db: Db, pattern: string): AsyncGenerator<RetainedPacket> {
  const matcher = new QlobberTrue(QLOBBER_OPTIONS)
  matcher.add(pattern)
  const plan = readPlan(pattern)
  for (const topic of plan.exact) {
    const blob = await db.get(RETAINED + topic, { valueEncoding: 'buffer' }) as unknown as Buffer | undefined
    if (blob === undefined) continue
    const packet = msgpack.decode(blob) as RetainedPacket
    if (matcher.test(packet.topic)) yield packet
  }
  if (plan.prefix === undefined) return
  // Keys are compared as bytes: everything under "<prefix>" ("…/") sorts below "<prefix without />0".
  const range = plan.prefix === ''
    ? { gte: RETAINED, lt: 'retained;' }
    : { gte: RETAINED + plan.prefix, lt: RETAINED + plan.prefix.slice(0, -1) + '0' }
  // The topic is the key: only the messages that match are decoded.
  for await (const [key, blob] of db.iterator({ ...range, valueEncoding: 'buffer' })) {
    if (matcher.test(key.slice(RETAINED.length))) yield msgpack.decode(blob as unknown as Buffer) as RetainedPacket
  }
}

async function * retainedForAll (db: Db, patterns: string[]): AsyncGenerator<RetainedPacket> {
  for (const pattern of patterns) yield * retainedFor(db, pattern)
}

/** Replaces the retained reads of an aedes-persistence-level instance made on `db`. */
export function narrowRetainedReads (instance: object, db: Db): void {
  Object.assign(instance, {
    createRetainedStream: (pattern: string) => Readable.from(retainedFor(db, pattern)),
    createRetainedStreamCombi: (patterns: string[]) => Readable.from(retainedForAll(db, patterns))
  })
}
