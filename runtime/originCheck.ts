/**
 * Which web pages may use a server's WebSocket (and, later, HTTP API) endpoints. A browser lets any page open a
 * WebSocket to any host, the venue PC's own loopback included, and sends the page's origin in `Origin`; only
 * the server can refuse. A request is accepted when:
 * - it has no `Origin`: not a browser (mqtt.js in Node, the relay, curl), which could send any header anyway;
 * - its `Origin` is the server's own: the scheme the request came over and the `Host` it was sent to, which is
 *   where the page that `/` serves comes from;
 * - its `Origin` is in ALLOWED_ORIGINS (a page served from elsewhere, or a TLS proxy in front: the proxy's
 *   `https://` origin reaches the server over plain HTTP, so it is not "own").
 * Anything else (another site, `null` from a sandboxed frame or a file) is refused with 403 before the upgrade.
 *
 * A server that listens on loopback only (the anonymous broker) counts an origin as its own only under a
 * loopback name (`localhost`, 127.x.x.x, [::1]): a site whose name is made to resolve to 127.0.0.1 (DNS
 * rebinding) is "own" to the browser, but it arrives with its own name in `Host`.
 */
import type { IncomingMessage } from 'node:http'
import type { VerifyClientCallbackAsync } from 'ws'
import { z } from 'zod'
import type { Logger } from './logger.ts'
import { clipForLog } from './logText.ts'

/** A Host header as browsers send it: a name or address, with an optional port. */
const HOST_HEADER = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i

export type OriginVerdict =
  | { ok: true, origin: 'none' | 'own' | 'allowed' }
  | { ok: false, reason: string }

export interface OriginPolicy {
  /** ALLOWED_ORIGINS, normalized. */
  allowed: readonly string[]
  /** The server listens on loopback only: its own origin is one with a loopback host name. */
  loopbackOnly: boolean
}

export interface OriginRequest {
  /** The `Origin` header, if any. */
  origin: string | undefined
  /** The `Host` header, if any. */
  host: string | undefined
  /** Whether the request came over TLS. */
  secure: boolean
}

/** `scheme://host[:port]` as browsers serialize it, or undefined when `text` is not an http(s) origin. */
export function normalizeOrigin (text: string): string | undefined {
  let url: URL
  try { url = new URL(text) } catch { return undefined }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  // An origin has no user, path, query or fragment: `https://a.example/x` is a URL, not an origin.
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || /[?#]/.test(text)) return undefined
  return url.origin
}

/** The origin of the pages this server serves itself: the request's scheme and Host. */
function ownOrigin (host: string | undefined, secure: boolean, loopbackOnly: boolean): string | undefined {
  if (host === undefined || !HOST_HEADER.test(host)) return undefined
  const origin = normalizeOrigin(`${secure ? 'https' : 'http'}://${host}`)
  if (origin === undefined || (loopbackOnly && !isLoopbackName(new URL(origin).hostname))) return undefined
  return origin
}

function isLoopbackName (hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname)
}

/** The rule above, for any request: WebSocket upgrades here, the HTTP API's state-changing requests later. */
export function checkOrigin (request: OriginRequest, policy: OriginPolicy): OriginVerdict {
  if (request.origin === undefined) return { ok: true, origin: 'none' }
  const origin = normalizeOrigin(request.origin)
  if (origin === undefined) return { ok: false, reason: 'origin not allowed' }
  if (origin === ownOrigin(request.host, request.secure, policy.loopbackOnly)) return { ok: true, origin: 'own' }
  if (policy.allowed.includes(origin)) return { ok: true, origin: 'allowed' }
  return { ok: false, reason: 'origin not allowed' }
}

/** The same for a Node request (the HTTP API's). */
export function checkRequestOrigin (req: IncomingMessage, policy: OriginPolicy): OriginVerdict {
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true
  return checkOrigin({ origin: req.headers.origin, host: req.headers.host, secure }, policy)
}

/**
 * ws's `verifyClient`: refuses the upgrade with 403 and the reason (no WebSocket is ever opened), and says so
 * in the log with the origin clipped.
 */
export function originVerifier (deps: OriginPolicy & { logger: Logger }): VerifyClientCallbackAsync {
  return (info, done) => {
    const verdict = checkRequestOrigin(info.req, deps)
    if (verdict.ok) return done(true)
    deps.logger.warn({
      origin: clipForLog(info.req.headers.origin),
      host: clipForLog(info.req.headers.host),
      remote: info.req.socket.remoteAddress,
      path: clipForLog(info.req.url)
    }, `websocket refused: ${verdict.reason} (ALLOWED_ORIGINS lists other origins that may connect)`)
    done(false, 403, verdict.reason)
  }
}

/** ALLOWED_ORIGINS: comma-separated origins (`https://tickets.example.com,http://localhost:3000`), each checked. */
export const allowedOriginsSchema = z.string().transform((text, ctx) => {
  const origins: string[] = []
  for (const entry of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const origin = normalizeOrigin(entry)
    if (origin === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${clipForLog(entry)}" is not an origin: scheme://host[:port] with http or https and nothing after, e.g. https://tickets.example.com` })
    } else {
      origins.push(origin)
    }
  }
  return origins
})
