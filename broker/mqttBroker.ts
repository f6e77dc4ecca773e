/**
 * The embedded broker, built from parts started in order and stopped in reverse (runtime/lifecycle.ts
 * PartStack): its store (persistence.ts), the users (AUTH_FILE), Aedes with what the broker adds to it
 * (brokerCore.ts), the listeners (listeners.ts: MQTT over TCP on MQTT_PORT; the page and MQTT over WebSockets
 * on PORT; mqtts:// on MQTTS_PORT with TLS, plain MQTT then on loopback) and `server/time` (serverTimePublisher.ts).
 * Its Prometheus metrics (`GET /metrics` on PORT) are in a registry of this instance's own (runtime/printwireMetrics.ts).
 */
import type { Aedes } from 'aedes'
import { AccessControl } from '../access/accessControl.ts'
import { LoginThrottle, loginLimitsOf } from '../access/loginThrottle.ts'
import { maxPayloadBytes, WEBSOCKET_PATH } from '../protocol/index.ts'
import type { JobHistoryReader } from '../protocol/jobHistory.ts'
import { PartStack } from '../runtime/lifecycle.ts'
import type { Logger } from '../runtime/logger.ts'
import { readTlsFiles } from '../runtime/tls.ts'
import { createApiRouter } from '../web/api/apiRouter.ts'
import { apiService } from '../web/api/apiService.ts'
import { CallerConnections } from '../web/api/callerConnections.ts'
import { metricsRoute } from '../web/server/metricsRoute.ts'
import { loadPageApp, type SimulatorTicketsRoute } from '../web/server/pageApp.ts'
import { PrintwireMetrics, type ConnectionKind } from '../runtime/printwireMetrics.ts'
import { checkAedesVersions } from './aedes/versions.ts'
import { BrokerCore } from './brokerCore.ts'
import { listenHost, plainMqttHost, type BrokerConfig } from './config.ts'
import { BrokerListeners } from './listeners.ts'
import { openPersistence } from './persistence.ts'
import { ServerTimePublisher } from './serverTimePublisher.ts'
import { loadTokenSecret } from './tokenSecret.ts'

export interface PrintwireBrokerDeps {
  config: BrokerConfig
  logger: Logger
  /** Only `npm start` (start.ts): its simulated printer's tickets, served beside the page. */
  simulatorTickets?: SimulatorTicketsRoute
}

export class PrintwireBroker {
  private readonly config: BrokerConfig
  private readonly logger: Logger
  private readonly parts: PartStack
  private readonly simulatorTickets: SimulatorTicketsRoute | undefined
  private running: { core: BrokerCore, listeners: BrokerListeners, persistence: string, users: number | undefined, access: AccessControl | undefined, jobHistory: JobHistoryReader } | undefined

  constructor (deps: PrintwireBrokerDeps) {
    this.config = deps.config
    this.logger = deps.logger
    this.parts = new PartStack({ logger: deps.logger })
    this.simulatorTickets = deps.simulatorTickets
  }

  /** The Aedes instance, for parts that live in the broker process (tests use real clients instead). */
  get broker (): Aedes {
    if (this.running === undefined) throw new Error('broker not started')
    return this.running.core.aedes
  }

  /** With AUTH_FILE: the users, and browser tokens (`issueToken`), for parts in the broker process (the HTTP API). */
  get access (): AccessControl | undefined {
    return this.running?.access
  }

  /** The job history (HTTP API, dashboard): what the broker has seen of each job. */
  get jobHistory (): JobHistoryReader {
    if (this.running === undefined) throw new Error('broker not started')
    return this.running.jobHistory
  }

  get mqttPort (): number {
    return this.running?.listeners.mqttPort ?? 0
  }

  get httpPort (): number {
    return this.running?.listeners.httpPort ?? 0
  }

  /** The mqtts:// port, 0 without TLS. */
  get mqttsPort (): number {
    return this.running?.listeners.mqttsPort ?? 0
  }

  /** The largest MQTT packet a client may send: a job of MAX_JOB_BYTES in a base64 envelope, with headers. */
  get maxPacketBytes (): number {
    return maxPayloadBytes(this.config.MAX_JOB_BYTES)
  }

  /** Starts every part; if one fails, those already started are stopped and the error is thrown. */
  async start (): Promise<void> {
    await this.parts.build(() => this.build())
    this.logStarted()
  }

  async stop (): Promise<void> {
    await this.parts.stop()
    this.running = undefined
    this.logger.info('broker stopped')
  }

  private async build (): Promise<void> {
    const { config, logger, parts } = this
    // The workarounds in aedes/ depend on these packages' internals.
    checkAedesVersions()
    const tls = await readTlsFiles('broker', config)
    const persistence = await openPersistence(config, logger)
    parts.onStop('persistence', async () => {
      logger.debug('closing persistence')
      await persistence.close()
    })
    // Browser tokens only with users: without AUTH_FILE every client may do everything, so a token limits nothing.
    const tokens = config.AUTH_FILE === undefined ? undefined : await loadTokenSecret(config, logger)
    if (tokens !== undefined) logger.info({ from: tokens.source }, 'browser tokens: signing secret loaded')
    const access = config.AUTH_FILE === undefined
      ? undefined
      : await parts.start('users', new AccessControl({ file: config.AUTH_FILE, topicPrefix: config.TOPIC_PREFIX, logger, tokenSecret: tokens?.secret }))
    const throttle = new LoginThrottle({ limits: loginLimitsOf(config) })
    // The HTTP API logs in over MQTT as its callers, in process (core is made below, before any request).
    const connections = new CallerConnections({
      brokerUrl: () => `mqtt://${loopbackFor(plainMqttHost(config))}:${this.mqttPort} (in process)`,
      transportFor: () => () => core.connectInProcess(),
      topicPrefix: config.TOPIC_PREFIX,
      broker: 'printwire',
      logger
    })
    const api = createApiRouter(apiService({ maxJobBytes: config.MAX_JOB_BYTES, topicPrefix: config.TOPIC_PREFIX, logger: logger.child({ part: 'api' }), origins: { allowed: config.ALLOWED_ORIGINS, loopbackOnly: listenHost(config) === '127.0.0.1' }, access, throttle, history: persistence.jobHistory, connections }))
    // This broker's own registry; connections are read from the broker (made below) at each scrape.
    const metrics: PrintwireMetrics = new PrintwireMetrics({
      connections: (): Record<ConnectionKind, number> => core.connections(),
      brokerQueued: async (printerId) => (await persistence.queueCounts.count(printerId)).jobs
    })
    const app = await loadPageApp({ config, logger, api, metrics: metricsRoute({ metrics, access, throttle, logger }), simulator: this.simulatorTickets })
    const core = new BrokerCore({ config, logger, persistence, access, throttle, metrics })
    const listeners = new BrokerListeners({ config, logger, tls, app, connect: (stream, req) => core.handle(stream, req) })
    // After the broker has closed its clients: whatever connection is left, then the servers.
    parts.onStop('connections', () => listeners.drain())
    await parts.start('broker', core)
    await parts.start('listeners', listeners)
    await parts.start('api connections', connections)
    this.running = { core, listeners, persistence: persistence.describe, users: access?.userCount, access, jobHistory: persistence.jobHistory }
    await parts.start('server time', new ServerTimePublisher({ broker: core.aedes, intervalMs: config.SERVER_TIME_INTERVAL_MS, logger }))
  }

  private logStarted (): void {
    const { config, logger } = this
    const host = listenHost(config)
    const tls = config.TLS_CERT !== undefined
    this.warnAboutExposure(host, tls)
    const secure = tls ? 's' : ''
    logger.info({
      mqtt: `mqtt://${displayHost(plainMqttHost(config))}:${this.mqttPort}`,
      ...(tls ? { mqtts: `mqtts://${displayHost(host)}:${this.mqttsPort}` } : {}),
      web: `http${secure}://${displayHost(host)}:${this.httpPort}/`,
      websocket: `ws${secure}://${displayHost(host)}:${this.httpPort}${WEBSOCKET_PATH}`,
      persistence: this.running?.persistence,
      users: this.running?.users ?? 'anonymous'
    }, 'broker listening')
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
}

/** Where a client in this process reaches a listener bound to `host`. */
function loopbackFor (host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
}

function displayHost (host: string): string {
  return host === '0.0.0.0' ? 'localhost' : host
}
