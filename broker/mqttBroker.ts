/**
 * The embedded broker: Aedes with its persistence, MQTT over TCP on MQTT_PORT, and one HTTP server on
 * PORT for the page (`/`) and MQTT over WebSockets (`/mqtt`, `ws` + createWebSocketStream). Aedes knows
 * nothing of transports: both listeners hand it a stream.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { Aedes } from 'aedes'
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws'
import { maxPayloadBytes } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { listenHost, type BrokerConfig } from './config.ts'
import { openPersistence, type BrokerPersistence } from './persistence.ts'
import { serializePublishes } from './orderedPublish.ts'
import { PacketSizeGuard } from './packetSizeGuard.ts'
import { ServerClock } from './serverClock.ts'
import { bundlePageScript, createWebApp } from './webApp.ts'

export interface PrintwireBrokerDeps {
  config: BrokerConfig
  logger: Logger
}

export const WEBSOCKET_PATH = '/mqtt'

export class PrintwireBroker {
  private readonly config: BrokerConfig
  private readonly logger: Logger
  private aedes: Aedes | undefined
  private persistence: BrokerPersistence | undefined
  private tcpServer: TcpServer | undefined
  private httpServer: HttpServer | undefined
  private wsServer: WebSocketServer | undefined
  private clock: ServerClock | undefined
  private readonly sockets = new Set<Socket>()

  constructor (deps: PrintwireBrokerDeps) {
    this.config = deps.config
    this.logger = deps.logger
  }

  /** The Aedes instance, for parts that live in the broker process (tests use real clients instead). */
  get broker (): Aedes {
    if (this.aedes === undefined) throw new Error('broker not started')
    return this.aedes
  }

  get mqttPort (): number {
    return (this.tcpServer?.address() as AddressInfo | null)?.port ?? 0
  }

  get httpPort (): number {
    return (this.httpServer?.address() as AddressInfo | null)?.port ?? 0
  }

  async start (): Promise<void> {
    const { config, logger } = this
    const host = listenHost(config)
    const pageScript = await bundlePageScript()
    this.persistence = await openPersistence(config, logger)
    const aedes = await Aedes.createBroker({
      ...(this.persistence.instance === undefined ? {} : { persistence: this.persistence.instance }),
      ...(this.persistence.mq === undefined ? {} : { mq: this.persistence.mq })
    })
    // LevelDB's thread pool completes store operations out of order; Redis answers one connection's
    // commands in order and memory is synchronous, so only level needs publishes one at a time.
    if (config.PERSISTENCE === 'level') serializePublishes(aedes)
    this.aedes = aedes
    this.watchClients(aedes)

    this.tcpServer = createTcpServer((socket) => this.handleTcp(aedes, socket))
    this.httpServer = createHttpServer(createWebApp(pageScript))
    // ws refuses a larger frame before buffering it; the guard then follows MQTT's own framing.
    this.wsServer = new WebSocketServer({ server: this.httpServer, path: WEBSOCKET_PATH, maxPayload: this.maxPacketBytes + 16 })
    this.wsServer.on('connection', (ws, req) => this.handleWebSocket(aedes, ws, req))
    this.wsServer.on('error', (error) => logger.error({ err: error }, 'websocket server error'))
    this.httpServer.on('connection', (socket) => this.track(socket))

    await listen(this.tcpServer, config.MQTT_PORT, host)
    await listen(this.httpServer, config.PORT, host)

    this.clock = new ServerClock({ broker: aedes, intervalMs: config.SERVER_TIME_INTERVAL_MS, logger })
    await this.clock.start()

    if (!config.ALLOW_ANONYMOUS) {
      logger.warn({ host }, 'no AUTH_FILE: anonymous clients are accepted, so the broker listens on loopback only; set ALLOW_ANONYMOUS=true to open it to the network on purpose')
    } else {
      logger.warn({ host }, 'ALLOW_ANONYMOUS=true: anyone who can reach this broker can print')
    }
    logger.info({
      mqtt: `mqtt://${displayHost(host)}:${this.mqttPort}`,
      web: `http://${displayHost(host)}:${this.httpPort}/`,
      websocket: `ws://${displayHost(host)}:${this.httpPort}${WEBSOCKET_PATH}`,
      persistence: this.persistence.describe
    }, 'broker listening')
  }

  async stop (): Promise<void> {
    await this.clock?.stop()
    this.wsServer?.clients.forEach((ws) => ws.terminate())
    await new Promise<void>((resolve) => { if (this.wsServer) this.wsServer.close(() => resolve()); else resolve() })
    const closing = [closeServer(this.tcpServer), closeServer(this.httpServer)]
    if (this.aedes) {
      const aedes = this.aedes
      this.logger.debug({ clients: aedes.connectedClients }, 'closing aedes')
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
    }
    for (const socket of this.sockets) socket.destroy()
    this.logger.debug('closing listeners')
    await Promise.all(closing)
    this.logger.debug('closing persistence')
    await this.persistence?.close()
    this.logger.info('broker stopped')
  }

  private track (socket: Socket): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }

  /** The largest MQTT packet a client may send: a job of MAX_JOB_BYTES in a base64 envelope, with headers. */
  get maxPacketBytes (): number {
    return maxPayloadBytes(this.config.MAX_JOB_BYTES)
  }

  private guard (inner: Duplex, remote: string | undefined): PacketSizeGuard {
    const guarded = new PacketSizeGuard({
      inner,
      maxPacketBytes: this.maxPacketBytes,
      onOversize: (announcedBytes) => this.logger.warn({ remote, announcedBytes, limit: this.maxPacketBytes }, 'packet too large: connection closed')
    })
    guarded.on('error', (error) => this.logger.debug({ err: error, remote }, 'connection error'))
    return guarded
  }

  private handleTcp (aedes: Aedes, socket: Socket): void {
    this.track(socket)
    socket.on('error', (error) => this.logger.debug({ err: error }, 'tcp socket error'))
    aedes.handle(this.guard(socket, socket.remoteAddress))
  }

  private handleWebSocket (aedes: Aedes, ws: WebSocket, req: IncomingMessage): void {
    const stream = createWebSocketStream(ws)
    stream.on('error', (error) => this.logger.debug({ err: error }, 'websocket stream error'))
    ws.on('error', (error) => this.logger.debug({ err: error }, 'websocket error'))
    aedes.handle(this.guard(stream, req.socket.remoteAddress), req)
  }

  private watchClients (aedes: Aedes): void {
    const { logger } = this
    aedes.on('client', (client) => logger.debug({ clientId: client.id }, 'client connected'))
    aedes.on('clientDisconnect', (client) => logger.debug({ clientId: client.id }, 'client disconnected'))
    aedes.on('clientError', (client, error) => logger.debug({ clientId: client.id, err: error }, 'client error'))
    aedes.on('connectionError', (_client, error) => logger.debug({ err: error }, 'connection error'))
  }
}

function listen (server: TcpServer | HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

function closeServer (server: TcpServer | HttpServer | undefined): Promise<void> {
  return new Promise((resolve) => { if (server?.listening) server.close(() => resolve()); else resolve() })
}

function displayHost (host: string): string {
  return host === '0.0.0.0' ? 'localhost' : host
}
