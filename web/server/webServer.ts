/**
 * The web server for an external broker (`npm run web`): Express serves the page and `/config.json` on PORT
 * (HTTPS with TLS_CERT/TLS_KEY; pageApp.ts), `/mqtt` is passed through to the broker's WebSocket listener, and `server/time` is
 * published as a client. With the embedded broker none of this is needed: it serves all of it itself.
 */
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { maxPayloadBytes, WEBSOCKET_PATH } from '../../protocol/index.ts'
import type { Logger } from '../../runtime/logger.ts'
import { closeServer, listen } from '../../runtime/servers.ts'
import { readTlsFiles } from '../../runtime/tls.ts'
import type { WebServerConfig } from './config.ts'
import { MqttProxy } from './mqttProxy.ts'
import { loadPageApp } from './pageApp.ts'
import { TimePublisher } from './timePublisher.ts'

export interface WebServerDeps {
  config: WebServerConfig
  logger: Logger
  /** Where the page script is cached (web/server/pageBundle.ts); its default otherwise. */
  pageCacheDir?: string
}

export class WebServer {
  private readonly config: WebServerConfig
  private readonly logger: Logger
  private readonly pageCacheDir: string | undefined
  private server: Server | undefined
  private proxy: MqttProxy | undefined
  private clock: TimePublisher | undefined
  private readonly sockets = new Set<Socket>()

  constructor (deps: WebServerDeps) {
    this.config = deps.config
    this.logger = deps.logger
    this.pageCacheDir = deps.pageCacheDir
  }

  get port (): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0
  }

  async start (): Promise<void> {
    const { config, logger } = this
    const tls = await readTlsFiles('web server', config)
    const app = await loadPageApp({ config, logger, pageCacheDir: this.pageCacheDir })
    const server = tls === undefined ? createHttpServer(app) : createHttpsServer({ ...tls }, app)
    this.server = server
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
    this.proxy = new MqttProxy({
      server,
      path: WEBSOCKET_PATH,
      upstreamUrl: config.BROKER_WS_URL,
      maxPayloadBytes: maxPayloadBytes(config.MAX_JOB_BYTES) + 16,
      allowedOrigins: config.ALLOWED_ORIGINS,
      logger
    })
    await this.proxy.start()
    await listen(server, config.PORT, config.LISTEN_HOST)
    this.clock = new TimePublisher({ config, logger })
    await this.clock.start()
    const scheme = tls === undefined ? 'http' : 'https'
    logger.info({ web: `${scheme}://localhost:${this.port}/`, broker: config.BROKER_WS_URL }, 'web server listening')
  }

  async stop (): Promise<void> {
    await this.clock?.stop()
    await this.proxy?.stop()
    const closed = closeServer(this.server)
    for (const socket of this.sockets) socket.destroy()
    await closed
  }
}
