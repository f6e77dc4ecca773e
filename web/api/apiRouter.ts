/**
 * The HTTP API's routes under `/api` (SPEC "HTTP API"): the HTTP side only: who is asking (Basic or Bearer),
 * bodies and their limits, content types, parameters, JSON errors with their codes and statuses, and the
 * OpenAPI document. What each route does (publish, wait, read the history, cancel, issue a token) is the
 * deps' (web/api/apiService.ts on a broker), so that the routes are the same on Aedes and in Mosquitto mode.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express'
import { isValidPrinterId, JOB_ID_PATTERN, maxPayloadBytes, PrintwireError, type JobResult, type PrinterStatusMessage } from '../../protocol/index.ts'
import type { Logger } from '../../runtime/logger.ts'
import { checkRequestOrigin, type OriginPolicy } from '../../runtime/originCheck.ts'
import { clipForLog } from '../../runtime/logText.ts'
import { readCredentials, type Credentials } from './credentials.ts'
import { httpStatusOf } from './httpStatus.ts'
import { jobListQuery, type JobListQuery } from './jobListQuery.ts'
import { prepareJob, type PreparedJob } from './jobRequest.ts'
import { openApiDocument } from './openapi.ts'

/** Who is asking, once their credentials are checked. */
export interface ApiCaller {
  /** The user name, or a token's issuer for a token. */
  user: string
  via: 'password' | 'token'
}

export interface ApiDeps {
  maxJobBytes: number
  logger: Logger
  /** Which pages may call the API (runtime/originCheck.ts: the page's own origin, ALLOWED_ORIGINS, or no Origin). */
  origins: OriginPolicy
  /** Checks credentials; rejects with UNAUTHORIZED (none, malformed, wrong) or a log-in throttle's refusal. */
  authenticate(credentials: Credentials, remoteAddress: string | undefined): Promise<ApiCaller>
  printers(caller: ApiCaller): Promise<PrinterStatusMessage[]>
  /** Publishes the job (FORBIDDEN when the caller may not print there); with waitMs, resolves with its result. */
  submit(caller: ApiCaller, printerId: string, job: PreparedJob, waitMs: number | undefined): Promise<JobResult | undefined>
  job(caller: ApiCaller, jobId: string): Promise<object>
  /** Who the caller is: user, how logged in, role and printers (the dashboard shows what the caller may do). */
  me(caller: ApiCaller): Promise<object>
  /** The job history, newest first: only jobs of printers the caller may read. */
  jobs(caller: ApiCaller, query: JobListQuery): Promise<object[]>
  cancel(caller: ApiCaller, jobId: string): Promise<object>
  issueToken(caller: ApiCaller, printers: string[], ttlSeconds: number): Promise<{ token: string, expiresAt: string }>
}

type Handler = (req: Request, res: Response) => Promise<void>

export function createApiRouter (deps: ApiDeps): Router {
  const router = express.Router()
  const body = express.raw({ type: () => true, limit: maxPayloadBytes(deps.maxJobBytes) })
  // A page of another site, open in a browser on the venue PC, can send a simple POST (text/plain) to any host,
  // loopback included, with the browser's saved Basic credentials; a site rebound by DNS to the server can read the
  // answers. Every request with an Origin not the page's own or in ALLOWED_ORIGINS is refused, as /mqtt refuses them.
  router.use((req, res, next) => {
    const verdict = checkRequestOrigin(req, deps.origins)
    if (verdict.ok) { next(); return }
    deps.logger.warn({ origin: clipForLog(req.get('origin')), method: req.method, path: clipForLog(req.path) }, 'HTTP API request refused: origin not allowed')
    if (!req.complete) res.set('Connection', 'close')
    answerError(deps, res, new PrintwireError('FORBIDDEN', 'requests from this origin are refused: only the page\'s own origin and ALLOWED_ORIGINS may use the API'))
  })
  router.get('/openapi.json', (_req, res) => { res.json(openApiDocument()) })
  router.get('/printers', route(deps, async (req, res) => {
    res.json(await deps.printers(await caller(deps, req)))
  }))
  // Who is asking is checked before a body is read: a caller it does not know gets its 401 at once, and no
  // megabyte of it is buffered (the connection is then closed rather than the rest read).
  const known = authenticateFirst(deps)
  router.post('/printers/:printerId/jobs', known, body, route(deps, async (req, res) => {
    const who = callerOf(res)
    const printerId = printerParam(req)
    const waitMs = waitParam(req)
    const job = prepareJob({ contentType: req.get('content-type'), body: bodyOf(req), idempotencyKey: req.get('idempotency-key'), maxJobBytes: deps.maxJobBytes })
    const result = await deps.submit(who, printerId, job, waitMs)
    if (result === undefined) res.status(202).json({ jobId: job.jobId })
    else res.status(200).json(result)
  }))
  router.get('/me', route(deps, async (req, res) => {
    res.json(await deps.me(await caller(deps, req)))
  }))
  router.get('/jobs', route(deps, async (req, res) => {
    const who = await caller(deps, req)
    res.json({ jobs: await deps.jobs(who, jobListQuery(req)) })
  }))
  router.get('/jobs/:jobId', route(deps, async (req, res) => {
    res.json(await deps.job(await caller(deps, req), jobParam(req)))
  }))
  router.delete('/jobs/:jobId', route(deps, async (req, res) => {
    res.json(await deps.cancel(await caller(deps, req), jobParam(req)))
  }))
  router.post('/tokens', known, body, route(deps, async (req, res) => {
    const who = callerOf(res)
    const { printers, ttlSeconds } = tokenRequest(req)
    res.status(201).json(await deps.issueToken(who, printers, ttlSeconds))
  }))
  router.use((_req, _res, next) => { next(new PrintwireError('NOT_FOUND', 'no such route: see /api/openapi.json')) })
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => { answerError(deps, res, error) })
  return router
}

function route (deps: ApiDeps, handler: Handler) {
  return (req: Request, res: Response): void => {
    handler(req, res).catch((error: unknown) => answerError(deps, res, error))
  }
}

async function caller (deps: ApiDeps, req: Request): Promise<ApiCaller> {
  return await deps.authenticate(readCredentials(req.get('authorization')), req.socket.remoteAddress)
}

function authenticateFirst (deps: ApiDeps) {
  return (req: Request, res: Response, next: NextFunction): void => {
    caller(deps, req).then((who) => {
      res.locals.caller = who
      next()
    }, (error: unknown) => {
      if (!req.complete) res.set('Connection', 'close')
      answerError(deps, res, error)
    })
  }
}

function callerOf (res: Response): ApiCaller {
  return res.locals.caller as ApiCaller
}

/** `{code, message}` with the code's status; a 401 says which schemes are taken. Never an HTML page. */
function answerError (deps: ApiDeps, res: Response, error: unknown): void {
  const refusal = asPrintwireError(error)
  const status = httpStatusOf(refusal.code)
  if (status === 500) deps.logger.error({ err: error }, 'HTTP API request failed')
  if (status === 401) res.set('WWW-Authenticate', 'Basic realm="printwire", charset="UTF-8", Bearer')
  if (res.headersSent) return
  const { jobId, printerId } = refusal as { jobId?: unknown, printerId?: unknown }
  res.status(status).json({
    code: refusal.code,
    message: refusal.message,
    ...(typeof jobId === 'string' ? { jobId } : {}),
    ...(typeof printerId === 'string' ? { printerId } : {})
  })
}

/** What Express or a body parser throws, as the API's codes. */
function asPrintwireError (error: unknown): PrintwireError {
  if (error instanceof PrintwireError) return error
  const http = error as { type?: string, status?: number, message?: string }
  if (http.type === 'entity.too.large') return new PrintwireError('JOB_TOO_LARGE', 'the request body is larger than the largest job the broker takes')
  if (typeof http.status === 'number' && http.status >= 400 && http.status < 500) return new PrintwireError('INVALID_ARGUMENT', `a request the server cannot read: ${String(http.message).slice(0, 200)}`)
  return new PrintwireError('INTERNAL_ERROR', 'the server could not answer this request; it is logged')
}

function bodyOf (req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
}

function printerParam (req: Request): string {
  const id = String(req.params.printerId)
  if (!isValidPrinterId(id)) throw new PrintwireError('INVALID_ARGUMENT', 'a printer id is 1-64 characters of A-Z a-z 0-9 _ -')
  return id
}

function jobParam (req: Request): string {
  const id = String(req.params.jobId)
  if (!JOB_ID_PATTERN.test(id)) throw new PrintwireError('INVALID_ARGUMENT', 'a job id is 1-128 characters of A-Z a-z 0-9 . _ : -')
  return id
}

/** `?wait=<seconds>`, 1-120: milliseconds, or undefined without it. */
function waitParam (req: Request): number | undefined {
  const wait = req.query.wait
  if (wait === undefined) return undefined
  if (typeof wait !== 'string' || !/^\d{1,3}$/.test(wait) || Number(wait) < 1 || Number(wait) > 120) {
    throw new PrintwireError('INVALID_ARGUMENT', '?wait is a whole number of seconds from 1 to 120')
  }
  return Number(wait) * 1000
}

function tokenRequest (req: Request): { printers: string[], ttlSeconds: number } {
  let value: unknown
  try {
    value = JSON.parse(bodyOf(req).toString('utf8'))
  } catch {
    throw new PrintwireError('INVALID_ARGUMENT', 'a token request is JSON: {"printers": ["lobby"], "ttlSeconds": 600}')
  }
  const { printers, ttlSeconds } = (value ?? {}) as { printers?: unknown, ttlSeconds?: unknown }
  if (!Array.isArray(printers) || printers.length === 0 || !printers.every((p) => typeof p === 'string' && (p === '*' || isValidPrinterId(p)))) {
    throw new PrintwireError('INVALID_ARGUMENT', '"printers": a list of printer ids, at least one')
  }
  if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86_400) {
    throw new PrintwireError('INVALID_ARGUMENT', '"ttlSeconds": a whole number from 1 to 86400 (24 h)')
  }
  return { printers: printers as string[], ttlSeconds }
}
