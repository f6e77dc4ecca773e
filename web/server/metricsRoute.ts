/**
 * `GET /metrics` (SPEC "Operations", README "Metrics"): the server's Prometheus metrics (runtime/printwireMetrics.ts)
 * in Prometheus' text format, mounted by pageApp.ts on the embedded broker's HTTP port and on the web server.
 * With an AUTH_FILE only an admin may read them, logging in with HTTP Basic (Prometheus' `basic_auth`) through the
 * same log-in throttle as MQTT and the HTTP API: no credentials, unreadable or wrong ones get 401 with
 * `WWW-Authenticate`; an address past its wrong log-ins 429 with `Retry-After`; a user who is not an admin, or
 * a browser token (never an admin, whoever issued it), 403. Without AUTH_FILE it is open, like the rest of a
 * server that then trusts whoever reaches it (the embedded broker listens on loopback only, unless ALLOW_ANONYMOUS).
 */
import type { Request, RequestHandler, Response } from 'express'
import type { AccessControl } from '../../access/accessControl.ts'
import type { LoginThrottle } from '../../access/loginThrottle.ts'
import { isTokenPrincipal, isTokenShaped, throttleNameFor } from '../../access/tokens.ts'
import type { Logger } from '../../runtime/logger.ts'
import { clipForLog } from '../../runtime/logText.ts'
import type { PrintwireMetrics } from '../../runtime/printwireMetrics.ts'
import { readCredentials } from '../api/credentials.ts'

export interface MetricsRouteDeps {
  metrics: PrintwireMetrics
  /** With AUTH_FILE: who may read (admins); undefined: anyone who reaches the server. */
  access: AccessControl | undefined
  /** The log-in throttle shared with MQTT and the HTTP API; required with `access`. */
  throttle: LoginThrottle | undefined
  logger: Logger
}

const CHALLENGE = 'Basic realm="printwire metrics", charset="UTF-8"'

export function metricsRoute (deps: MetricsRouteDeps): RequestHandler {
  return (req, res) => {
    allowed(deps, req, res).then(async (ok) => {
      if (!ok) return
      const { contentType, text } = await deps.metrics.scrape()
      res.setHeader('Cache-Control', 'no-store')
      res.type(contentType).send(text)
    }).catch((error: unknown) => {
      deps.logger.error({ err: error }, 'metrics: could not answer a scrape')
      if (!res.headersSent) res.status(500).type('text/plain').send('the metrics could not be read; see the server\'s log\n')
    })
  }
}

/** Whether the caller may read the metrics; when not, the answer is sent. */
async function allowed (deps: MetricsRouteDeps, req: Request, res: Response): Promise<boolean> {
  const { access, throttle, logger } = deps
  if (access === undefined) return true
  const refuse = (status: number, message: string): false => {
    if (status === 401) res.setHeader('WWW-Authenticate', CHALLENGE)
    res.status(status).type('text/plain').send(`${message}\n`)
    return false
  }
  const credentials = readCredentials(req.get('authorization'))
  if (credentials.kind === 'none') return refuse(401, 'log in with HTTP Basic as an admin of AUTH_FILE')
  if (credentials.kind === 'malformed') return refuse(401, `the Authorization header cannot be read: ${credentials.reason}`)
  const username = credentials.kind === 'basic' ? credentials.username : undefined
  const password = Buffer.from(credentials.kind === 'basic' ? credentials.password : credentials.token, 'utf8')
  const address = req.socket.remoteAddress
  const login = (): ReturnType<AccessControl['login']> => access.login(username, password, '')
  const result = throttle === undefined ? await login() : await throttle.attempt(throttleNameFor(username, password), password, address, login)
  if (!result.ok) {
    if (result.refusal === 'TOO_MANY_FAILURES') {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil((result.retryAfterMs ?? 1000) / 1000))))
      return refuse(429, 'too many wrong log-ins from this address: try again later')
    }
    logger.warn({ user: clipForLog(username), remote: address, reason: result.refusal }, 'metrics: log-in refused')
    return refuse(401, 'the user name and password are not valid')
  }
  const principal = result.principal ?? username
  if (isTokenShaped(password) || principal === undefined || isTokenPrincipal(principal)) return refuse(403, 'browser tokens cannot read the metrics: log in as an admin of AUTH_FILE')
  if (access.roleOf(principal) !== 'admin') {
    logger.warn({ user: clipForLog(principal), remote: address }, 'metrics: refused to a user who is not an admin')
    return refuse(403, 'only an admin of AUTH_FILE may read the metrics')
  }
  return true
}
