/**
 * The web server for an external broker (`npm run web`): Express serves the page and `/config.json` on PORT
 * (HTTPS with TLS_CERT/TLS_KEY; pageApp.ts), `/mqtt` is passed through to the broker's WebSocket listener, and `server/time` is
 * published as a client; `/metrics` (metricsRoute.ts) tells what its job history sees. With the embedded broker none
 * of this is needed: it serves all of it itself.
 */
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { AccessControl } from '../../access/accessControl.ts'
import { LoginThrottle, loginLimitsOf } from '../../access/loginThrottle.ts'
import { secretFromText, secretInDir } from '../../access/tokenSecretFile.ts'
import { isTokenShaped } from '../../access/tokens.ts'
import { maxPayloadBytes, PrintwireError, WEBSOCKET_PATH } from '../../protocol/index.ts'
import { createApiRouter } from '../api/apiRouter.ts'
import { apiService } from '../api/apiService.ts'
import { CallerConnections } from '../api/callerConnections.ts'
import type { Logger } from '../../runtime/logger.ts'
import { PartStack } from '../../runtime/lifecycle.ts'
import { closeServer, listen } from '../../runtime/servers.ts'
import { readTlsFiles } from '../../runtime/tls.ts'
import { PrintwireMetrics } from '../../runtime/printwireMetrics.ts'
import type { WebServerConfig } from './config.ts'
import { JobHistoryClient } from './jobHistoryClient.ts'
import { metricsRoute } from './metricsRoute.ts'
import { brokerWebSocket, MqttProxy } from './mqttProxy.ts'
import { loadPageApp } from './pageApp.ts'
import { TimePublisher } from './timePublisher.ts'
import { TokenGateway } from './tokenGateway.ts'

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
  private readonly parts: PartStack
  private server: Server | undefined
  private jobHistoryClient: JobHistoryClient | undefined

  constructor (deps: WebServerDeps) {
    this.config = deps.config
    this.logger = deps.logger
    this.pageCacheDir = deps.pageCacheDir
    this.parts = new PartStack({ logger: deps.logger })
  }

  /** The job history recorded from the broker's topics (HTTP API, dashboard). */
  get jobHistory (): JobHistoryClient {
    if (this.jobHistoryClient === undefined) throw new Error('web server not started')
    return this.jobHistoryClient
  }

  get port (): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0
  }

  /** Starts the proxy, the listener and the time publisher; if one fails, those started are stopped. */
  async start (): Promise<void> {
    await this.parts.build(() => this.build())
    const scheme = this.config.TLS_CERT === undefined ? 'http' : 'https'
    this.logger.info({ web: `${scheme}://localhost:${this.port}/`, broker: this.config.BROKER_WS_URL }, 'web server listening')
  }

  async stop (): Promise<void> {
    await this.parts.stop()
  }

  private async build (): Promise<void> {
    const { config, logger, parts } = this
    const tls = await readTlsFiles('web server', config)
    // First: a job published once the page is served is recorded. The metrics read what the history reads (and the
    // printers' statuses); Mosquitto's connections are not seen from here.
    const metrics = new PrintwireMetrics()
    this.jobHistoryClient = await parts.start('job history', new JobHistoryClient({ config, logger, metrics }))
    // Users and browser tokens: Mosquitto checks the users (mosquitto-export); tokens are checked here (tokenGateway.ts).
    const tokens = config.AUTH_FILE === undefined ? undefined : config.TOKEN_SECRET === undefined ? await secretInDir(config.DATA_DIR, logger) : secretFromText(config.TOKEN_SECRET)
    if (tokens !== undefined) logger.info({ from: tokens.source }, 'browser tokens: signing secret loaded')
    const access = config.AUTH_FILE === undefined
      ? undefined
      : await parts.start('users', new AccessControl({ file: config.AUTH_FILE, topicPrefix: config.TOPIC_PREFIX, logger, tokenSecret: tokens?.secret }))
    if (access !== undefined && (config.MQTT_USERNAME === undefined || access.roleOf(config.MQTT_USERNAME) !== 'admin')) {
      throw new PrintwireError('INVALID_CONFIG', `MQTT_USERNAME must be an admin of AUTH_FILE (${config.AUTH_FILE ?? ''}): the web server publishes server/time and carries browser tokens' connections as that user`)
    }
    const throttle = access === undefined ? undefined : new LoginThrottle({ limits: loginLimitsOf(config) })
    const maxPacket = maxPayloadBytes(config.MAX_JOB_BYTES) + 16
    const gateway = await parts.start('token gateway', new TokenGateway({
      access,
      throttle,
      login: access === undefined || config.MQTT_USERNAME === undefined ? undefined : { username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD ?? '' },
      upstream: brokerWebSocket(config.BROKER_WS_URL, maxPacket),
      maxPacketBytes: maxPacket,
      logger
    }))
    // The HTTP API logs in to the broker as its callers: users straight to MQTT_URL, tokens through the gateway.
    const connections = await parts.start('api connections', new CallerConnections({
      brokerUrl: () => config.MQTT_URL,
      transportFor: (login) => login.password !== undefined && isTokenShaped(login.password) && gateway.enabled ? () => gateway.connectInProcess() : undefined,
      topicPrefix: config.TOPIC_PREFIX,
      broker: 'mosquitto',
      logger
    }))
    const api = createApiRouter(apiService({
      maxJobBytes: config.MAX_JOB_BYTES,
      topicPrefix: config.TOPIC_PREFIX,
      logger: logger.child({ part: 'api' }),
      // As the WebSocket proxy (mqttProxy.ts): the page's own origin and ALLOWED_ORIGINS.
      origins: { allowed: config.ALLOWED_ORIGINS, loopbackOnly: false },
      access,
      throttle,
      history: this.jobHistoryClient.history,
      connections
    }))
    // An external broker is Mosquitto (docker-compose.yml): it cannot answer NO_RELAY, so the page's client checks status.
    const app = await loadPageApp({ config, logger, pageCacheDir: this.pageCacheDir, broker: 'mosquitto', api, metrics: metricsRoute({ metrics, access, throttle, logger }) })
    const server = tls === undefined ? createHttpServer(app) : createHttpsServer({ ...tls }, app)
    this.server = server
    const sockets = new Set<Socket>()
    server.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    })
    parts.onStop('listener', async () => {
      const closed = closeServer(server)
      for (const socket of sockets) socket.destroy()
      await closed
    })
    await parts.start('mqtt proxy', new MqttProxy({
      server,
      path: WEBSOCKET_PATH,
      maxPayloadBytes: maxPacket,
      allowedOrigins: config.ALLOWED_ORIGINS,
      gateway,
      logger
    }))
    await listen(server, config.PORT, config.LISTEN_HOST, 'PORT')
    await parts.start('server time', new TimePublisher({ config, logger }))
  }
}
