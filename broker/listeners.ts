/**
 * The broker's listeners: MQTT over TCP on MQTT_PORT, one HTTP(S) server on PORT for the page and MQTT over
 * WebSockets (`ws` + createWebSocketStream), and with TLS mqtts:// on MQTTS_PORT. Each connection goes through
 * a packet size guard and is handed to the broker as a stream; the broker knows nothing of transports.
 *
 * Stopping is in two steps around the broker's own close: `stop()` stops accepting and ends the WebSockets;
 * `drain()`, once the broker has closed its clients (and published their Wills), ends what is left.
 */
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws'
import { maxPayloadBytes, WEBSOCKET_PATH } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { originVerifier } from '../runtime/originCheck.ts'
import { closeServer, listen } from '../runtime/servers.ts'
import type { TlsFiles } from '../runtime/tls.ts'
import { listenHost, plainMqttHost, type BrokerConfig } from './config.ts'
import { PacketSizeGuard } from '../runtime/packetSizeGuard.ts'

export interface BrokerListenersDeps {
  config: BrokerConfig
  logger: Logger
  /** The certificate and key, with TLS on. */
  tls: TlsFiles | undefined
  /** Serves HTTP requests on PORT (the page, /config.json, ...); `/mqtt` upgrades are taken before it. */
  app: RequestListener
  /** Hands one client connection to the broker. */
  connect: (stream: Duplex, req?: IncomingMessage) => void
}

export class BrokerListeners {
  private readonly deps: BrokerListenersDeps
  private readonly sockets = new Set<Socket>()
  private tcpServer: TcpServer | undefined
  private tlsServer: TcpServer | undefined
  private httpServer: HttpServer | undefined
  private wsServer: WebSocketServer | undefined
  private closing: Array<Promise<void>> = []

  constructor (deps: BrokerListenersDeps) {
    this.deps = deps
  }

  get mqttPort (): number {
    return (this.tcpServer?.address() as AddressInfo | null)?.port ?? 0
  }

  get httpPort (): number {
    return (this.httpServer?.address() as AddressInfo | null)?.port ?? 0
  }

  /** The mqtts:// port, 0 without TLS. */
  get mqttsPort (): number {
    return (this.tlsServer?.address() as AddressInfo | null)?.port ?? 0
  }

  /** The largest MQTT packet a client may send: a job of MAX_JOB_BYTES in a base64 envelope, with headers. */
  get maxPacketBytes (): number {
    return maxPayloadBytes(this.deps.config.MAX_JOB_BYTES)
  }

  async start (): Promise<void> {
    const { config, logger, tls, app } = this.deps
    const host = listenHost(config)
    this.tcpServer = createTcpServer((socket) => this.handleTcp(socket))
    this.httpServer = tls === undefined ? createHttpServer(app) : createHttpsServer({ ...tls }, app)
    // ws refuses a larger frame before buffering it; the guard then follows MQTT's own framing. Pages of
    // other origins are refused before the upgrade.
    this.wsServer = new WebSocketServer({
      server: this.httpServer,
      path: WEBSOCKET_PATH,
      maxPayload: this.maxPacketBytes + 16,
      verifyClient: originVerifier({ allowed: config.ALLOWED_ORIGINS, loopbackOnly: host === '127.0.0.1', logger })
    })
    this.wsServer.on('connection', (ws, req) => this.handleWebSocket(ws, req))
    this.wsServer.on('error', (error) => logger.error({ err: error }, 'websocket server error'))
    this.httpServer.on('connection', (socket) => this.track(socket))
    this.httpServer.on('tlsClientError', (error: Error) => logger.debug({ err: error }, 'https handshake failed'))

    await listen(this.tcpServer, config.MQTT_PORT, plainMqttHost(config), 'MQTT_PORT')
    await listen(this.httpServer, config.PORT, host, 'PORT')
    if (tls !== undefined) {
      this.tlsServer = createTlsServer({ ...tls }, (socket) => this.handleTcp(socket))
      this.tlsServer.on('connection', (socket: Socket) => this.track(socket))
      this.tlsServer.on('tlsClientError', (error: Error) => logger.debug({ err: error }, 'mqtts handshake failed'))
      await listen(this.tlsServer, config.MQTTS_PORT, host, 'MQTTS_PORT')
    }
  }

  /** Stops accepting connections and ends the WebSockets; TCP connections are left to the broker's close. */
  async stop (): Promise<void> {
    const ws = this.wsServer
    ws?.clients.forEach((client) => client.terminate())
    await new Promise<void>((resolve) => { if (ws !== undefined) ws.close(() => resolve()); else resolve() })
    this.closing = [closeServer(this.tcpServer), closeServer(this.tlsServer), closeServer(this.httpServer)]
  }

  /** Ends every connection still open and waits for the servers to close. */
  async drain (): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    this.deps.logger.debug('closing listeners')
    await Promise.all(this.closing)
  }

  private track (socket: Socket): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }

  private guard (inner: Duplex, remote: string | undefined): PacketSizeGuard {
    const { logger } = this.deps
    const guarded = new PacketSizeGuard({
      inner,
      remoteAddress: remote,
      maxPacketBytes: this.maxPacketBytes,
      onOversize: (announcedBytes) => logger.warn({ remote, announcedBytes, limit: this.maxPacketBytes }, 'packet too large: connection closed')
    })
    guarded.on('error', (error) => logger.debug({ err: error, remote }, 'connection error'))
    return guarded
  }

  private handleTcp (socket: Socket | TLSSocket): void {
    this.track(socket)
    // MQTT packets are small and answered at once (PUBACK, then the next PUBLISH): Nagle's algorithm would
    // hold each behind the peer's delayed ACK, tens of milliseconds per hop.
    socket.setNoDelay(true)
    socket.on('error', (error) => this.deps.logger.debug({ err: error }, 'tcp socket error'))
    this.deps.connect(this.guard(socket, socket.remoteAddress))
  }

  private handleWebSocket (ws: WebSocket, req: IncomingMessage): void {
    const { logger } = this.deps
    const stream = createWebSocketStream(ws)
    stream.on('error', (error) => logger.debug({ err: error }, 'websocket stream error'))
    ws.on('error', (error) => logger.debug({ err: error }, 'websocket error'))
    this.deps.connect(this.guard(stream, req.socket.remoteAddress), req)
  }
}
