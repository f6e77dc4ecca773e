/**
 * `/mqtt` on the web server, passed through to the broker's own WebSocket listener: the page connects to
 * the origin it came from whichever broker runs behind (the same page works with the embedded broker and
 * with Mosquitto, and over HTTPS without mixed content). Frames are relayed as they are, both ways; the
 * broker does the authentication. Either side closing closes the other. Pages of other origins are refused
 * before the upgrade, as by the embedded broker (runtime/originCheck.ts).
 */
import type { IncomingMessage, Server } from 'node:http'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import type { Logger } from '../../runtime/logger.ts'
import { originVerifier } from '../../runtime/originCheck.ts'

export interface MqttProxyDeps {
  server: Server
  path: string
  upstreamUrl: string
  maxPayloadBytes: number
  /** ALLOWED_ORIGINS: origins besides the page's own. */
  allowedOrigins: readonly string[]
  logger: Logger
}

/** Frames a page may send before the broker's side is open (CONNECT and a few more). */
const MAX_PENDING_FRAMES = 64

export class MqttProxy {
  private readonly deps: MqttProxyDeps
  private wss: WebSocketServer | undefined

  constructor (deps: MqttProxyDeps) {
    this.deps = deps
  }

  async start (): Promise<void> {
    const { server, path, maxPayloadBytes, allowedOrigins, logger } = this.deps
    this.wss = new WebSocketServer({
      server,
      path,
      maxPayload: maxPayloadBytes,
      verifyClient: originVerifier({ allowed: allowedOrigins, loopbackOnly: false, logger }),
      handleProtocols: (protocols) => protocols.has('mqtt') ? 'mqtt' : false
    })
    this.wss.on('connection', (page, req) => this.bridge(page, req))
    this.wss.on('error', (error) => logger.error({ err: error }, 'websocket proxy error'))
  }

  async stop (): Promise<void> {
    this.wss?.clients.forEach((ws) => ws.terminate())
    await new Promise<void>((resolve) => { if (this.wss) this.wss.close(() => resolve()); else resolve() })
  }

  private bridge (page: WebSocket, req: IncomingMessage): void {
    const { upstreamUrl, maxPayloadBytes, logger } = this.deps
    const remote = req.socket.remoteAddress
    const broker = new WebSocket(upstreamUrl, 'mqtt', { maxPayload: maxPayloadBytes })
    const pending: RawData[] = []
    const closeBoth = (): void => {
      if (page.readyState === WebSocket.OPEN || page.readyState === WebSocket.CONNECTING) page.close()
      if (broker.readyState === WebSocket.OPEN) broker.close()
      else if (broker.readyState === WebSocket.CONNECTING) broker.terminate()
    }
    page.on('message', (data) => {
      if (broker.readyState === WebSocket.OPEN) broker.send(data)
      else if (pending.length < MAX_PENDING_FRAMES) pending.push(data)
      else closeBoth()
    })
    broker.on('open', () => { for (const data of pending.splice(0)) broker.send(data) })
    broker.on('message', (data) => { if (page.readyState === WebSocket.OPEN) page.send(data) })
    broker.on('error', (error) => { logger.warn({ err: error, upstream: upstreamUrl, remote }, 'cannot reach the broker for a page'); closeBoth() })
    page.on('error', (error) => { logger.debug({ err: error, remote }, 'page websocket error'); closeBoth() })
    broker.on('close', closeBoth)
    page.on('close', closeBoth)
  }
}
