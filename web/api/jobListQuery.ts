/**
 * `GET /api/jobs`'s query (SPEC "HTTP API", the dashboard's job history): `printer`, `state`, `since`, `until`
 * (ISO-8601 date-times, of when the broker first saw each job) and `limit` (1 to MAX_JOB_HISTORY_LIST, default
 * DEFAULT_JOB_LIST_LIMIT). Anything else, or a value that cannot be read, is INVALID_ARGUMENT (400): a filter
 * silently ignored would show jobs the caller asked not to see as if they matched.
 */
import { isValidPrinterId, PrintwireError } from '../../protocol/index.ts'
import { JOB_STATES, MAX_JOB_HISTORY_LIST, type JobState } from '../../protocol/jobHistory.ts'

/** Jobs listed when `limit` is not given. */
export const DEFAULT_JOB_LIST_LIMIT = 100

export const JOB_LIST_PARAMETERS = ['printer', 'state', 'since', 'until', 'limit'] as const

export interface JobListQuery {
  printerId?: string
  state?: JobState
  /** Epoch ms. */
  since?: number
  /** Epoch ms. */
  until?: number
  limit: number
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

/** Reads `query` (Express's req.query); throws INVALID_ARGUMENT naming the parameter at fault. */
export function jobListQuery (req: { query: Record<string, unknown> }): JobListQuery {
  const params = req.query
  for (const name of Object.keys(params)) {
    if (!(JOB_LIST_PARAMETERS as readonly string[]).includes(name)) throw invalid(`unknown parameter ?${name}: the job list takes ${JOB_LIST_PARAMETERS.map((p) => `?${p}`).join(', ')}`)
  }
  const one = (name: string): string | undefined => {
    const value = params[name]
    if (value === undefined) return undefined
    if (typeof value !== 'string') throw invalid(`?${name} is given once, as plain text`)
    return value
  }
  const query: JobListQuery = { limit: DEFAULT_JOB_LIST_LIMIT }
  const printer = one('printer')
  if (printer !== undefined) {
    if (!isValidPrinterId(printer)) throw invalid('?printer is a printer id: 1-64 characters of A-Z a-z 0-9 _ -')
    query.printerId = printer
  }
  const state = one('state')
  if (state !== undefined) {
    if (!(JOB_STATES as readonly string[]).includes(state)) throw invalid(`?state is one of ${JOB_STATES.join(', ')}`)
    query.state = state as JobState
  }
  const since = dateParam('since', one('since'))
  const until = dateParam('until', one('until'))
  if (since !== undefined) query.since = since
  if (until !== undefined) query.until = until
  if (since !== undefined && until !== undefined && since > until) throw invalid('?since is later than ?until')
  const limit = one('limit')
  if (limit !== undefined) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_JOB_HISTORY_LIST) throw invalid(`?limit is a whole number from 1 to ${MAX_JOB_HISTORY_LIST}`)
    query.limit = Number(limit)
  }
  return query
}

function dateParam (name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = ISO_DATE_TIME.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) throw invalid(`?${name} is an ISO-8601 date-time with a time zone, e.g. 2026-11-21T18:00:00Z`)
  return ms
}

function invalid (message: string): PrintwireError {
  return new PrintwireError('INVALID_ARGUMENT', message)
}
