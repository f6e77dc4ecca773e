/**
 * The embedded broker: Aedes with its persistence, MQTT over TCP on MQTT_PORT, and one HTTP server on
 * PORT for the page (`/`) and MQTT over WebSockets (`/mqtt`, `ws` + createWebSocketStream). Aedes knows
 * nothing of transports: every listener hands it a stream. With TLS_CERT/TLS_KEY, PORT serves HTTPS and
 * wss://, MQTTS_PORT serves mqtts://, and plain MQTT stays on loopback. With AUTH_FILE, every client logs in.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import type { Duplex } from 'node:stream'
import { Aedes } from 'aedes'
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws'
import { AccessControl } from '../access/accessControl.ts'
import { LoginThrottle } from '../access/loginThrottle.ts'
import { maxPayloadBytes, WEBSOCKET_PATH } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { clipForLog } from '../runtime/logText.ts'
import { originVerifier } from '../runtime/originCheck.ts'
import { closeServer, listen } from '../runtime/servers.ts'
import { readTlsFiles } from '../runtime/tls.ts'
import { loadPageApp } from '../web/server/pageApp.ts'
import { AccessHooks } from './accessHooks.ts'
import { checkAedesVersions } from './aedesVersions.ts'
import { listenHost, loginLimits, plainMqttHost, type BrokerConfig } from './config.ts'
import { openPersistence, type BrokerPersistence } from './persistence.ts'
import { DurablePublish } from './durablePublish.ts'
import { JobQueueLimits } from './jobQueueLimits.ts'
import { LiveClients } from './liveClients.ts'
import { PublishGate } from './publishGate.ts'
import { RelayExclusivity } from './relayExclusivity.ts'
import { PacketSizeGuard } from './packetSizeGuard.ts'
import { ServerClock } from './serverClock.ts'

export interface PrintwireBrokerDeps {
  config: BrokerConfig
  logger: Logger
}

export class PrintwireBroker {
  private readonly config: BrokerConfig
  private readonly logger: Logger
  private aedes: Aedes | undefined
  private persistence: BrokerPersistence | undefined
  private durable: DurablePublish | undefined
  private live: LiveClients | undefined
  private limits: JobQueueLimits | undefined
  private access: AccessControl | undefined
  private tcpServer: TcpServer | undefined
  private tlsServer: TcpServer | undefined
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

  /** The mqtts:// port, 0 without TLS. */
  get mqttsPort (): number {
    return (this.tlsServer?.address() as AddressInfo | null)?.port ?? 0
  }

  async start (): Promise<void> {
    const { config, logger } = this
    // The workarounds below depend on these packages' internals (aedesVersions.ts).
    checkAedesVersions()
    const host = listenHost(config)
    const tls = await readTlsFiles('broker', config)
    const app = await loadPageApp({ config, logger })
    this.persistence = await openPersistence(config, logger)
    let hooks: AccessHooks | undefined
    if (config.AUTH_FILE !== undefined) {
      this.access = new AccessControl({
        file: config.AUTH_FILE,
        topicPrefix: config.TOPIC_PREFIX,
        logger,
        onUsersChanged: (users) => { if (this.aedes !== undefined) hooks?.disconnectUsers(this.aedes, users) }
      })
      await this.access.start()
      hooks = new AccessHooks({ access: this.access, owners: this.persistence.owners, relays: this.persistence.printerRelays, throttle: new LoginThrottle({ limits: loginLimits(config) }), logger })
    }
    const accessHooks = hooks?.hooks()
    const aedes = await Aedes.createBroker({
      heartbeatInterval: config.HEARTBEAT_INTERVAL_MS,
      ...(this.persistence.instance === undefined ? {} : { persistence: this.persistence.instance }),
      ...(this.persistence.mq === undefined ? {} : { mq: this.persistence.mq }),
      ...(accessHooks ?? {})
    })
    // A QoS 1 PUBACK only once the message is stored for every session it matches (durablePublish.ts).
    const durable = new DurablePublish({ aedes, logger })
    durable.start()
    this.durable = durable
    // Who is connected, across broker instances on one Redis, for the log-in checks below and in the hooks.
    const stores = this.persistence
    const live = new LiveClients({ aedes, store: stores.liveClients })
    await live.start()
    this.live = live
    const limits = new JobQueueLimits({ aedes, counts: this.persistence.queueCounts, relays: this.persistence.printerRelays, topicPrefix: config.TOPIC_PREFIX, limits: { maxJobs: config.MAX_QUEUED_JOBS, maxBytes: config.MAX_QUEUED_BYTES }, alive: (broker) => stores.liveClients.alive(broker), logger })
    await limits.start()
    this.limits = limits
    new PublishGate({ aedes, durable, limits, authorize: accessHooks?.authorizePublish, topicPrefix: config.TOPIC_PREFIX, logger }).start()
    // After the access hooks: one relay per printer.
    new RelayExclusivity({ aedes, relays: this.persistence.printerRelays, live, topicPrefix: config.TOPIC_PREFIX, logger }).start()
    this.aedes = aedes
    hooks?.attach(aedes, live)
    this.watchClients(aedes)

    this.tcpServer = createTcpServer((socket) => this.handleTcp(aedes, socket))
    this.httpServer = tls === undefined ? createHttpServer(app) : createHttpsServer({ ...tls }, app)
    // ws refuses a larger frame before buffering it; the guard then follows MQTT's own framing. Pages of
    // other origins are refused before the upgrade.
    this.wsServer = new WebSocketServer({
      server: this.httpServer,
      path: WEBSOCKET_PATH,
      maxPayload: this.maxPacketBytes + 16,
      verifyClient: originVerifier({ allowed: config.ALLOWED_ORIGINS, loopbackOnly: host === '127.0.0.1', logger })
    })
    this.wsServer.on('connection', (ws, req) => this.handleWebSocket(aedes, ws, req))
    this.wsServer.on('error', (error) => logger.error({ err: error }, 'websocket server error'))
    this.httpServer.on('connection', (socket) => this.track(socket))
    this.httpServer.on('tlsClientError', (error: Error) => logger.debug({ err: error }, 'https handshake failed'))

    await listen(this.tcpServer, config.MQTT_PORT, plainMqttHost(config))
    await listen(this.httpServer, config.PORT, host)
    if (tls !== undefined) {
      this.tlsServer = createTlsServer({ ...tls }, (socket) => this.handleTcp(aedes, socket))
      this.tlsServer.on('connection', (socket: Socket) => this.track(socket))
      this.tlsServer.on('tlsClientError', (error: Error) => logger.debug({ err: error }, 'mqtts handshake failed'))
      await listen(this.tlsServer, config.MQTTS_PORT, host)
    }

    this.clock = new ServerClock({ broker: aedes, intervalMs: config.SERVER_TIME_INTERVAL_MS, logger })
    await this.clock.start()

    this.warnAboutExposure(host, tls !== undefined)
    const secure = tls !== undefined ? 's' : ''
    logger.info({
      mqtt: `mqtt://${displayHost(plainMqttHost(config))}:${this.mqttPort}`,
      ...(tls === undefined ? {} : { mqtts: `mqtts://${displayHost(host)}:${this.mqttsPort}` }),
      web: `http${secure}://${displayHost(host)}:${this.httpPort}/`,
      websocket: `ws${secure}://${displayHost(host)}:${this.httpPort}${WEBSOCKET_PATH}`,
      persistence: this.persistence.describe,
      users: this.access?.userCount ?? 'anonymous'
    }, 'broker listening')
  }

  async stop (): Promise<void> {
    await this.clock?.stop()
    await this.access?.stop()
    this.wsServer?.clients.forEach((ws) => ws.terminate())
    await new Promise<void>((resolve) => { if (this.wsServer) this.wsServer.close(() => resolve()); else resolve() })
    const closing = [closeServer(this.tcpServer), closeServer(this.tlsServer), closeServer(this.httpServer)]
    if (this.aedes) {
      const aedes = this.aedes
      this.logger.debug({ clients: aedes.connectedClients }, 'closing aedes')
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
    }
    this.durable?.stop()
    await this.live?.stop()
    await this.limits?.stop()
    for (const socket of this.sockets) socket.destroy()
    this.logger.debug('closing listeners')
    await Promise.all(closing)
    this.logger.debug('closing persistence')
    await this.persistence?.close()
    this.logger.info('broker stopped')
  }

  private warnAboutExposure (host: string, tls: boolean): void {
    const { config, logger } = this
    if (config.AUTH_FILE === undefined && !config.ALLOW_ANONYMOUS) {
      logger.warn({ host }, 'no AUTH_FILE: anonymous clients are accepted, so the broker listens on loopback only; set AUTH_FILE, or ALLOW_ANONYMOUS=true to open it to the network on purpose')
    } else if (config.AUTH_FILE === undefined) {
      logger.warn({ host }, 'ALLOW_ANONYMOUS=true: anyone who can reach this broker can print')
    } else if (!tls) {
      logger.warn({ host }, 'AUTH_FILE without TLS: passwords and tickets cross the network in clear; set TLS_CERT and TLS_KEY, or put a TLS proxy in front')
    }
    if (tls) logger.info('TLS on: plain MQTT listens on loopback only')
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
      remoteAddress: remote,
      maxPacketBytes: this.maxPacketBytes,
      onOversize: (announcedBytes) => this.logger.warn({ remote, announcedBytes, limit: this.maxPacketBytes }, 'packet too large: connection closed')
    })
    guarded.on('error', (error) => this.logger.debug({ err: error, remote }, 'connection error'))
    return guarded
  }

  private handleTcp (aedes: Aedes, socket: Socket | TLSSocket): void {
    this.track(socket)
    // MQTT packets are small and answered at once (PUBACK, then the next PUBLISH): Nagle's algorithm would
    // hold each behind the peer's delayed ACK, tens of milliseconds per hop.
    socket.setNoDelay(true)
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
    aedes.on('client', (client) => logger.debug({ clientId: clipForLog(client.id) }, 'client connected'))
    aedes.on('clientDisconnect', (client) => logger.debug({ clientId: clipForLog(client.id) }, 'client disconnected'))
    aedes.on('clientError', (client, error) => logger.debug({ clientId: clipForLog(client.id), err: error }, 'client error'))
    aedes.on('connectionError', (_client, error) => logger.debug({ err: error }, 'connection error'))
    // Aedes emits 'error' when a store fails outside any client's request (publishing a dead instance's Wills
    // while Redis is down): without a listener that would end the process.
    ;(aedes as unknown as NodeJS.EventEmitter).on('error', (error: Error) => logger.error({ err: error }, 'broker error (its store failed); carrying on'))
  }
}

function displayHost (host: string): string {
  return host === '0.0.0.0' ? 'localhost' : host
}
