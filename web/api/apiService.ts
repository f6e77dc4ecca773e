/**
 * What the HTTP API's routes do (SPEC "HTTP API"), on either broker: the caller is checked with the users of
 * AUTH_FILE (HTTP Basic, through the log-in throttle) or as a browser token (Bearer); jobs, cancels and the
 * printers' status go over MQTT as the caller (callerConnections.ts), so the broker grants exactly what it
 * grants over MQTT; a job's state comes from the job history.
 */
import type { AccessControl } from '../../access/accessControl.ts'
import type { LoginThrottle } from '../../access/loginThrottle.ts'
import { isTokenShaped, throttleNameFor } from '../../access/tokens.ts'
import type { JobHistoryReader, JobRecord } from '../../protocol/jobHistory.ts'
import { PrintwireError, responsesTopic, type JobResult, type PrinterStatusMessage } from '../../protocol/index.ts'
import type { Logger } from '../../runtime/logger.ts'
import type { OriginPolicy } from '../../runtime/originCheck.ts'
import type { ApiCaller, ApiDeps } from './apiRouter.ts'
import { loginKey, type CallerConnections, type CallerLogin } from './callerConnections.ts'
import type { Credentials } from './credentials.ts'
import type { JobListQuery } from './jobListQuery.ts'
import type { PreparedJob } from './jobRequest.ts'

/** A caller as the service knows it: how it logs in to MQTT, and the name grants are looked up by. */
interface Caller extends ApiCaller {
  login: CallerLogin
  /** The name AccessControl knows (a user, or a token's principal); undefined without AUTH_FILE. */
  principal: string | undefined
}

export interface ApiServiceDeps {
  maxJobBytes: number
  topicPrefix: string
  logger: Logger
  /** Which pages may call the API (see ApiDeps). */
  origins: OriginPolicy
  /** With AUTH_FILE: the users and tokens; without, callers are anonymous (the broker is then loopback-only). */
  access: AccessControl | undefined
  throttle: LoginThrottle | undefined
  history: JobHistoryReader
  connections: CallerConnections
}

/** How long `GET /api/printers` gathers the retained statuses the broker sends after a subscription. */
const STATUS_SETTLE_MS = 250
/** How long `DELETE /api/jobs/<id>` waits for the relay's answer to a cancel. */
const CANCEL_WAIT_MS = 5000

/**
 * Jobs a request is publishing or waiting for, by caller, printer and job id. The client library waits for one
 * job id per printer at a time on a connection, so a request sent again with the same Idempotency-Key while the
 * first is still publishing or waiting joins it rather than being refused.
 */
type InFlight = Map<string, { waiting: boolean, done: Promise<JobResult | undefined> }>

export function apiService (deps: ApiServiceDeps): ApiDeps {
  const inFlight: InFlight = new Map()
  return {
    maxJobBytes: deps.maxJobBytes,
    logger: deps.logger,
    origins: deps.origins,
    authenticate: async (credentials, address) => await authenticate(deps, credentials, address),
    printers: async (caller) => await printers(deps, caller as Caller),
    submit: async (caller, printerId, job, waitMs) => await submitOnce(deps, inFlight, caller as Caller, printerId, job, waitMs),
    job: async (caller, jobId) => await visibleJob(deps, caller as Caller, jobId),
    me: async (caller) => me(deps, caller as Caller),
    jobs: async (caller, query) => await visibleJobs(deps, caller as Caller, query),
    cancel: async (caller, jobId) => await cancel(deps, caller as Caller, jobId),
    issueToken: async (caller, printers, ttlSeconds) => issueToken(deps, caller as Caller, printers, ttlSeconds)
  }
}

async function authenticate (deps: ApiServiceDeps, credentials: Credentials, address: string | undefined): Promise<Caller> {
  const { access, throttle } = deps
  if (access === undefined || throttle === undefined) return { user: 'anonymous', via: 'password', login: {}, principal: undefined }
  if (credentials.kind === 'none') throw new PrintwireError('UNAUTHORIZED', 'log in: HTTP Basic with a user of AUTH_FILE, or Authorization: Bearer <token>')
  if (credentials.kind === 'malformed') throw new PrintwireError('UNAUTHORIZED', `the Authorization header cannot be read: ${credentials.reason}`)
  const username = credentials.kind === 'basic' ? credentials.username : undefined
  const password = credentials.kind === 'basic' ? credentials.password : credentials.token
  const buffer = Buffer.from(password, 'utf8')
  // As the MQTT broker counts them (accessHooks.ts): a token without a user name (Bearer) is counted as `(token)`,
  // so that forged tokens count against the address like wrong passwords.
  const result = await throttle.attempt(throttleNameFor(username, buffer), buffer, address, () => access.login(username, buffer, ''))
  if (!result.ok) throw new PrintwireError('UNAUTHORIZED', result.refusal === 'TOO_MANY_FAILURES' ? 'too many wrong log-ins from this address: try again later' : 'the user name and password, or the token, are not valid')
  const principal = result.principal ?? username
  // A token is the same caller whatever user name comes with it (Basic `anything:<token>`): one connection per
  // token, not one per made-up name (callerConnections.ts), and never the rights of a password log-in.
  const token = isTokenShaped(buffer)
  const login = token || username === undefined ? { username: 'token', password } : { username, password }
  return { user: principal ?? 'token', via: token ? 'token' : 'password', login, principal }
}

/**
 * Connections whose printers' statuses have been gathered once: from then on the client library keeps them
 * current (live status messages), so a later request answers at once.
 */
const settledConnections = new WeakSet<object>()

async function printers (deps: ApiServiceDeps, caller: Caller): Promise<PrinterStatusMessage[]> {
  return await deps.connections.with(caller.login, async (client) => {
    if (settledConnections.has(client)) return client.printers() as PrinterStatusMessage[]
    // The broker sends the retained statuses just after the subscription: gather them until they stop coming.
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(quiet)
        clearTimeout(cap)
        stopListening()
        resolve()
      }
      let quiet = setTimeout(finish, STATUS_SETTLE_MS)
      const cap = setTimeout(finish, STATUS_SETTLE_MS * 4)
      const stopListening = client.on('printers', () => {
        clearTimeout(quiet)
        quiet = setTimeout(finish, STATUS_SETTLE_MS)
      })
    })
    settledConnections.add(client)
    return client.printers() as PrinterStatusMessage[]
  })
}

/**
 * `submit`, joining a request for the same job of the same caller still in flight: without ?wait, answered once
 * that one has published it (202); with ?wait, its result, within this request's own wait (a wait that ends
 * first, TIMEOUT, is taken over by this one for what remains of its own).
 */
async function submitOnce (deps: ApiServiceDeps, inFlight: InFlight, caller: Caller, printerId: string, job: PreparedJob, waitMs: number | undefined): Promise<JobResult | undefined> {
  const key = `${loginKey(caller.login)}\u0000${printerId}\u0000${job.jobId}`
  const deadline = waitMs === undefined ? undefined : Date.now() + waitMs
  for (;;) {
    const current = inFlight.get(key)
    if (current === undefined) break
    if (deadline === undefined) {
      // Published by the request in flight (or refused to it, as it would be to this one).
      if (current.waiting) return undefined
      await current.done
      return undefined
    }
    if (!current.waiting) {
      await current.done.catch(() => {})
      continue
    }
    try {
      return await withinMs(current.done, deadline - Date.now(), job.jobId, printerId)
    } catch (error) {
      // The request in flight waited less than this one: this one goes on with the rest of its own wait.
      if (!(error instanceof PrintwireError && error.code === 'TIMEOUT' && Date.now() < deadline - 10)) throw error
      if (inFlight.get(key) === current) inFlight.delete(key)
    }
  }
  const done = submit(deps, caller, printerId, job, deadline === undefined ? undefined : Math.max(1, deadline - Date.now()))
  const entry = { waiting: waitMs !== undefined, done }
  inFlight.set(key, entry)
  try {
    return await done
  } finally {
    if (inFlight.get(key) === entry) inFlight.delete(key)
  }
}

/** `promise`, or TIMEOUT after `ms` (the job may still print). */
async function withinMs<T> (promise: Promise<T>, ms: number, jobId: string, printerId: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new PrintwireError('TIMEOUT', `no result for job ${jobId} within the wait asked`, { jobId, printerId })), Math.max(0, ms))
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function submit (deps: ApiServiceDeps, caller: Caller, printerId: string, job: PreparedJob, waitMs: number | undefined): Promise<JobResult | undefined> {
  if (caller.principal !== undefined && deps.access?.mayPublish(caller.principal, `${deps.topicPrefix}/${printerId}/jobs`) !== true) {
    throw new PrintwireError('FORBIDDEN', `not allowed to print on ${printerId}`, { printerId })
  }
  const parsed = job.parsed
  const options = { id: job.jobId, copies: parsed.copies, ...(parsed.expiresAt === undefined ? {} : { expiresAt: new Date(parsed.expiresAt).toISOString() }) }
  return await deps.connections.with(caller.login, async (client) => {
    if (waitMs !== undefined) return await client.print(printerId, parsed.data, { ...options, timeoutMs: waitMs })
    // Without ?wait: answered once the broker has the job (its PUBACK); the wait for the result ends there.
    const stop = new AbortController()
    const printing = client.print(printerId, parsed.data, { ...options, signal: stop.signal, onPublished: () => stop.abort() })
    try {
      await printing
    } catch (error) {
      if (!(error instanceof PrintwireError && error.code === 'ABORTED' && stop.signal.aborted)) throw error
    }
    return undefined
  })
}

async function visibleJob (deps: ApiServiceDeps, caller: Caller, jobId: string): Promise<JobRecord> {
  const record = await deps.history.get(jobId)
  // Another printer's job is as unknown as a job that does not exist.
  if (record === undefined || !mayRead(deps, caller, record.printerId)) throw new PrintwireError('NOT_FOUND', `no job ${jobId} that you may see`, { jobId })
  return record
}

/**
 * The caller as AUTH_FILE knows it. Without AUTH_FILE everyone is anonymous and may do everything (the broker is
 * then on loopback only): `role` null, printers `*`.
 */
function me (deps: ApiServiceDeps, caller: Caller): { user: string | null, via: 'password' | 'token' | 'anonymous', role: string | null, printers: readonly string[] } {
  if (caller.principal === undefined || deps.access === undefined) return { user: null, via: 'anonymous', role: null, printers: ['*'] }
  return { user: caller.user, via: caller.via, role: deps.access.roleOf(caller.principal) ?? null, printers: deps.access.printersOf(caller.principal) ?? [] }
}

/** The history as GET /api/jobs/<id> shows it: a printer the caller may not read is one that has no jobs. */
async function visibleJobs (deps: ApiServiceDeps, caller: Caller, query: JobListQuery): Promise<JobRecord[]> {
  if (query.printerId !== undefined && !mayRead(deps, caller, query.printerId)) return []
  const visible = caller.principal === undefined ? undefined : (printerId: string): boolean => mayRead(deps, caller, printerId)
  return await deps.history.list({ ...query, ...(visible === undefined ? {} : { visible }) })
}

async function cancel (deps: ApiServiceDeps, caller: Caller, jobId: string): Promise<JobRecord> {
  const record = await visibleJob(deps, caller, jobId)
  if (record.state !== 'pending') throw conflict(jobId, `job ${jobId} has ended (${record.state}): it cannot be cancelled`)
  await deps.connections.with(caller.login, async (client) => { await client.cancel(record.printerId, jobId) })
  const deadline = Date.now() + CANCEL_WAIT_MS
  for (;;) {
    const now = await deps.history.get(jobId)
    if (now?.state === 'cancelled') return now
    if (now !== undefined && now.state !== 'pending') throw conflict(jobId, `job ${jobId} has ended (${now.state}): it cannot be cancelled`)
    if (Date.now() > deadline) throw conflict(jobId, `job ${jobId} was not cancelled: it has started printing`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function issueToken (deps: ApiServiceDeps, caller: Caller, printers: string[], ttlSeconds: number): { token: string, expiresAt: string } {
  if (deps.access === undefined) throw new PrintwireError('FORBIDDEN', 'tokens need AUTH_FILE: without users there is nothing to limit')
  if (caller.via !== 'password' || caller.principal === undefined) throw new PrintwireError('FORBIDDEN', 'a token cannot ask for tokens: log in with a user of AUTH_FILE')
  const issued = deps.access.issueToken(caller.principal, { printers, ttlSeconds })
  return { token: issued.token, expiresAt: issued.expiresAt }
}

function mayRead (deps: ApiServiceDeps, caller: Caller, printerId: string): boolean {
  return caller.principal === undefined || deps.access?.mayRead(caller.principal, responsesTopic(deps.topicPrefix, printerId)) === true
}

function conflict (jobId: string, message: string): PrintwireError {
  return new PrintwireError('JOB_NOT_CANCELLABLE', message, { jobId })
}
