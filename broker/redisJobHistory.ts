/**
 * The job history in Redis (PERSISTENCE=redis), shared by every broker instance on that Redis. One instance may
 * see a job published and another its result, so each fact is a field of its own, written without reading
 * (protocol/jobHistory.ts derives the record from them): the two never overwrite each other. Keys, under
 * `printwire:job-history:`:
 * - `job:<jobId>`: a hash: `printerId`, `first` (first seen, ms), `pubFirst`, `pubLast` (the latest publish and
 *   its user), `out` (result or final error), `cancel`, `retryCount`; it expires JOB_HISTORY_DAYS after its first write;
 * - `retry:<jobId>`: the latest retryable errors (a capped list), expiring with it;
 * - `printer:<printerId>`: a sorted set of its job ids by first seen: the cap (the oldest are dropped, with their
 *   hashes) and `list`; `all`: every `<printerId>/<jobId>` by first seen, for `list` and to trim both sets of
 *   expired entries, at most EXPIRED_REMOVED_PER_WRITE per write.
 */
import type { Redis } from 'ioredis'
import { jobOfEvent, jobRecordOf, keptError, MAX_RETRYABLE_ERRORS_KEPT, outcomeOf, type JobEvent, type JobFacts, type JobHistoryError, type JobHistoryQuery, type JobOutcome, type JobRecord } from '../protocol/jobHistory.ts'
import { EXPIRED_REMOVED_PER_WRITE, type JobHistoryLimits, type JobHistoryStore, type Now } from '../runtime/jobHistory/jobHistoryStore.ts'

export const REDIS_JOB_HISTORY_PREFIX = 'printwire:job-history:'

/**
 * Writes one fact of a job (KEYS: its hash, its retry list; ARGV: printer id, seen at, retention ms, what (`pub`,
 * `cancel`, `out`, `retry`, or `none`), its value, retryable errors kept), unless the id is another printer's job
 * (protocol/jobHistory.ts `isSameJob`): checked and written in one step, so two broker instances never mix two
 * printers' facts under one id. Returns 1 when written, 0 when the id is another printer's.
 */
const WRITE_FACT = `
local owner = redis.call('HGET', KEYS[1], 'printerId')
if owner and owner ~= ARGV[1] then return 0 end
redis.call('HSETNX', KEYS[1], 'printerId', ARGV[1])
redis.call('HSETNX', KEYS[1], 'first', ARGV[2])
local what = ARGV[4]
if what == 'pub' then
  redis.call('HSETNX', KEYS[1], 'pubFirst', ARGV[2])
  redis.call('HSET', KEYS[1], 'pubLast', ARGV[5])
elseif what == 'cancel' or what == 'out' then
  redis.call('HSET', KEYS[1], what, ARGV[5])
elseif what == 'retry' then
  redis.call('RPUSH', KEYS[2], ARGV[5])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
  redis.call('HINCRBY', KEYS[1], 'retryCount', 1)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3], 'NX')
return 1
`

type WriteFact = (job: string, retry: string, printerId: string, seenAt: number, retentionMs: number, what: 'pub' | 'cancel' | 'out' | 'retry' | 'none', value: string, kept: number) => Promise<number>

/**
 * Indexes a job (KEYS: its printer's set, `all`, its hash; ARGV: seen at, job id, printer id, cap, retention ms,
 * expiry cut-off, most to drop or trim, key prefix), unless the id is another printer's job. A new job beyond its
 * printer's cap drops the oldest, hash and all.
 */
const INDEX_JOB = `
local added = 0
if redis.call('HGET', KEYS[3], 'printerId') == ARGV[3] then
  added = redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
if added == 1 then
  redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[3] .. '/' .. ARGV[2])
  local excess = math.min(redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4]), tonumber(ARGV[7]))
  if excess > 0 then
    local old = redis.call('ZPOPMIN', KEYS[1], excess)
    for i = 1, #old, 2 do
      redis.call('DEL', ARGV[8] .. 'job:' .. old[i], ARGV[8] .. 'retry:' .. old[i])
      redis.call('ZREM', KEYS[2], ARGV[3] .. '/' .. old[i])
    end
  end
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[6], 'LIMIT', 0, ARGV[7])
for _, member in ipairs(expired) do
  local slash = string.find(member, '/', 1, true)
  redis.call('ZREM', KEYS[2], member)
  if slash then redis.call('ZREM', ARGV[8] .. 'printer:' .. string.sub(member, 1, slash - 1), string.sub(member, slash + 1)) end
end
return added
`

/**
 * Forgets a job past its retention whose hash has not expired yet (TTLs run on Redis' clock), so that its id
 * starts a new job (KEYS: its hash, its retry list, `all`; ARGV: expiry cut-off, job id, key prefix).
 */
const FORGET_EXPIRED = `
local first = redis.call('HGET', KEYS[1], 'first')
if first and tonumber(first) < tonumber(ARGV[1]) then
  local printer = redis.call('HGET', KEYS[1], 'printerId')
  redis.call('DEL', KEYS[1], KEYS[2])
  if printer then
    redis.call('ZREM', ARGV[3] .. 'printer:' .. printer, ARGV[2])
    redis.call('ZREM', KEYS[3], printer .. '/' .. ARGV[2])
  end
end
return 0
`

type ForgetExpired = (job: string, retry: string, allKey: string, cutoff: number, jobId: string, prefix: string) => Promise<number>

type IndexJob = (printerKey: string, allKey: string, job: string, seenAt: number, jobId: string, printerId: string, cap: number, retentionMs: number, cutoff: number, maxExpired: number, prefix: string) => Promise<number>

/** Ids read from the index per round of `list`. */
const LIST_PAGE = 200

export class RedisJobHistory implements JobHistoryStore {
  private readonly redis: Redis
  private readonly limits: JobHistoryLimits
  private readonly now: Now
  private readonly prefix: string

  constructor (deps: { redis: Redis, limits: JobHistoryLimits, now?: Now, prefix?: string }) {
    this.redis = deps.redis
    this.limits = deps.limits
    this.now = deps.now ?? Date.now
    this.prefix = deps.prefix ?? REDIS_JOB_HISTORY_PREFIX
    if (!('printwireIndexJobOfPrinter' in this.redis)) this.redis.defineCommand('printwireIndexJobOfPrinter', { numberOfKeys: 3, lua: INDEX_JOB })
    if (!('printwireWriteJobFact' in this.redis)) this.redis.defineCommand('printwireWriteJobFact', { numberOfKeys: 2, lua: WRITE_FACT })
    if (!('printwireForgetExpired' in this.redis)) this.redis.defineCommand('printwireForgetExpired', { numberOfKeys: 3, lua: FORGET_EXPIRED })
  }

  async apply (event: JobEvent): Promise<void> {
    const { jobId, printerId } = jobOfEvent(event)
    const job = `${this.prefix}job:${jobId}`
    const retry = `${this.prefix}retry:${jobId}`
    const { retentionMs, perPrinter } = this.limits
    const cutoff = this.now() - retentionMs
    const tx = this.redis.multi()
    const commands = tx as unknown as { printwireIndexJobOfPrinter: IndexJob, printwireForgetExpired: ForgetExpired, printwireWriteJobFact: WriteFact }
    void commands.printwireForgetExpired.call(tx, job, retry, `${this.prefix}all`, cutoff, jobId, this.prefix)
    const fact = factOf(event)
    void commands.printwireWriteJobFact.call(tx, job, retry, printerId, event.seenAt, retentionMs, fact.what, fact.value, MAX_RETRYABLE_ERRORS_KEPT)
    void commands.printwireIndexJobOfPrinter.call(tx, `${this.prefix}printer:${printerId}`, `${this.prefix}all`, job, event.seenAt, jobId, printerId, perPrinter, retentionMs, cutoff, EXPIRED_REMOVED_PER_WRITE, this.prefix)
    const results = await tx.exec()
    const failed = results?.find(([error]) => error !== null)
    if (results === null) throw new Error('job history write to redis discarded')
    if (failed !== undefined) throw failed[0] as Error
  }

  async get (jobId: string): Promise<JobRecord | undefined> {
    const facts = await this.facts(jobId)
    return facts === undefined ? undefined : jobRecordOf(facts)
  }

  async list (query: JobHistoryQuery): Promise<JobRecord[]> {
    const key = query.printerId === undefined ? `${this.prefix}all` : `${this.prefix}printer:${query.printerId}`
    const min = Math.max(query.since ?? 0, this.now() - this.limits.retentionMs)
    const records: JobRecord[] = []
    for (let offset = 0; records.length < query.limit; offset += LIST_PAGE) {
      const members = await this.redis.zrevrangebyscore(key, query.until ?? '+inf', min, 'LIMIT', offset, LIST_PAGE)
      for (const member of members) {
        // A member of `all` is `<printerId>/<jobId>`: jobs the caller may not see are skipped without reading their facts.
        if (query.visible !== undefined && !query.visible(query.printerId ?? member.slice(0, member.indexOf('/')))) continue
        const facts = await this.facts(member.slice(member.indexOf('/') + 1))
        if (facts === undefined) continue
        const record = jobRecordOf(facts)
        if (query.state === undefined || record.state === query.state) records.push(record)
        if (records.length >= query.limit) break
      }
      if (members.length < LIST_PAGE) break
    }
    return records
  }

  private async facts (jobId: string): Promise<JobFacts | undefined> {
    const [[hashError, hash], [listError, list]] = await this.redis.multi()
      .hgetall(`${this.prefix}job:${jobId}`)
      .lrange(`${this.prefix}retry:${jobId}`, 0, -1)
      .exec() as [[Error | null, Record<string, string>], [Error | null, string[]]]
    if (hashError !== null) throw hashError
    if (listError !== null) throw listError
    if (hash.printerId === undefined || hash.first === undefined) return undefined
    const firstSeenAt = Number(hash.first)
    if (firstSeenAt < this.now() - this.limits.retentionMs) return undefined
    const last = hash.pubLast === undefined ? undefined : JSON.parse(hash.pubLast) as { at: number, user: string | null, anonymous?: true }
    return {
      jobId,
      printerId: hash.printerId,
      firstSeenAt,
      ...(last === undefined ? {} : { published: { firstAt: Number(hash.pubFirst ?? last.at), lastAt: last.at, user: last.user, ...(last.anonymous === true ? { anonymous: true as const } : {}) } }),
      ...(hash.out === undefined ? {} : { outcome: JSON.parse(hash.out) as JobOutcome }),
      retryableErrors: list.map((text) => JSON.parse(text) as JobHistoryError),
      retryableErrorCount: Number(hash.retryCount ?? 0),
      ...(hash.cancel === undefined ? {} : { cancelRequested: JSON.parse(hash.cancel) as { at: number, user: string | null } })
    }
  }
}

/** The one field an event writes (WRITE_FACT). */
function factOf (event: JobEvent): { what: 'pub' | 'cancel' | 'out' | 'retry' | 'none', value: string } {
  if (event.kind === 'published') return { what: 'pub', value: JSON.stringify({ at: event.seenAt, user: event.publisher.user, ...(event.publisher.anonymous === true ? { anonymous: true } : {}) }) }
  if (event.kind === 'cancelRequested') return { what: 'cancel', value: JSON.stringify({ at: event.seenAt, user: event.publisher.user }) }
  const outcome = outcomeOf(event)
  if (outcome !== undefined) return { what: 'out', value: JSON.stringify(outcome) }
  if (event.kind === 'error') {
    const seen: JobHistoryError = keptError(event.error)
    return { what: 'retry', value: JSON.stringify(seen) }
  }
  return { what: 'none', value: '' }
}
