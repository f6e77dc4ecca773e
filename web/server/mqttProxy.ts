/**
 * `/mqtt` on the web server, passed on to the broker's own WebSocket listener: the page connects to the origin
 * it came from whichever broker runs behind (the same page works with the embedded broker and with Mosquitto,
 * and over HTTPS without mixed content). Each connection goes through the token gateway (tokenGateway.ts): a
 * user's log-in reaches the broker unchanged, byte for byte, and the broker checks it; a browser token is checked
 * by the gateway, which Mosquitto cannot do. Either side closing closes the other. Pages of other origins are
 * refused before the upgrade, as by the embedded broker (runtime/originCheck.ts).
 */
import type { IncomingMessage, Server } from 'node:http'
import { createWebSocketStream, WebSocket, WebSocketServer } from 'ws'
import type { Logger } from '../../runtime/logger.ts'
import { originVerifier } from '../../runtime/originCheck.ts'
import type { TokenGateway } from './tokenGateway.ts'

export interface MqttProxyDeps {
  server: Server
  path: string
  maxPayloadBytes: number
  /** ALLOWED_ORIGINS: origins besides the page's own. */
  allowedOrigins: readonly string[]
  gateway: TokenGateway
  logger: Logger
}

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
    const remote = req.socket.remoteAddress
    page.on('error', (error) => this.deps.logger.debug({ err: error, remote }, 'page websocket error'))
    const stream = createWebSocketStream(page)
    stream.on('error', () => stream.destroy())
    this.deps.gateway.serve(stream, remote, { throttled: true })
  }
}

/** A new connection to the broker's WebSocket listener, as a stream of MQTT bytes. */
export function brokerWebSocket (url: string, maxPayloadBytes: number): () => ReturnType<typeof createWebSocketStream> {
  return () => {
    const ws = new WebSocket(url, 'mqtt', { maxPayload: maxPayloadBytes })
    ws.on('error', () => {})
    return createWebSocketStream(ws)
  }
}
