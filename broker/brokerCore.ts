/**
 * Aedes and what the broker adds to it, without any listener: the access hooks (with AUTH_FILE), a PUBACK
 * only once a message is stored (aedes/durablePublish.ts), who is connected across instances (liveClients.ts),
 * the queue limits per printer (jobQueueLimits.ts), the publish gate in front of them (publishGate.ts) and one
 * relay per printer (relayExclusivity.ts). Listeners hand it connections through `handle`.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { Aedes } from 'aedes'
import type { AccessControl } from '../access/accessControl.ts'
import { LoginThrottle, loginLimitsOf } from '../access/loginThrottle.ts'
import { duplexPair } from '../runtime/duplexPair.ts'
import { PartStack } from '../runtime/lifecycle.ts'
import type { Logger } from '../runtime/logger.ts'
import { clipForLog } from '../runtime/logText.ts'
import type { ConnectionKind, PrintwireMetrics } from '../runtime/printwireMetrics.ts'
import { connectionsByKind, seedPrinterStates } from './brokerMetrics.ts'
import { AccessHooks } from './accessHooks.ts'
import { DurablePublish } from './aedes/durablePublish.ts'
import type { BrokerConfig } from './config.ts'
import { JobHistoryTap } from './jobHistoryTap.ts'
import { JobQueueLimits } from './jobQueueLimits.ts'
import { LiveClients } from './liveClients.ts'
import type { BrokerPersistence } from './persistence.ts'
import { PublishGate } from './publishGate.ts'
import { RelayExclusivity } from './relayExclusivity.ts'

export interface BrokerCoreDeps {
  config: BrokerConfig
  logger: Logger
  persistence: BrokerPersistence
  /** With AUTH_FILE: who may log in, publish and read. */
  access?: AccessControl | undefined
  /** The log-in backoff, shared with the HTTP API; one of the broker's own otherwise. */
  throttle?: LoginThrottle | undefined
  /** The broker's metrics (`GET /metrics`), fed with what the job history reads and the printers' statuses. */
  metrics?: PrintwireMetrics | undefined
}

export class BrokerCore {
  private readonly deps: BrokerCoreDeps
  private readonly parts: PartStack
  private started: Aedes | undefined
  private hooks: AccessHooks | undefined
  /** The broker's ends of in-process connections (connectInProcess). */
  private readonly inProcess = new WeakSet<object>()

  constructor (deps: BrokerCoreDeps) {
    this.deps = deps
    this.parts = new PartStack({ logger: deps.logger })
  }

  /** The Aedes instance, once started. */
  get aedes (): Aedes {
    if (this.started === undefined) throw new Error('broker not started')
    return this.started
  }

  /** Serves one client connection (any stream: TCP, TLS, WebSocket). */
  handle (stream: Duplex, req?: IncomingMessage): void {
    this.aedes.handle(stream, req)
  }

  /**
   * A connection from this process (the HTTP API acting as its callers): the client's end of an in-memory
   * stream. Its log-ins skip the log-in backoff, which counts by address: the API has already passed each
   * caller through it from the caller's own address, and another local client's wrong passwords must not lock
   * every HTTP caller out.
   */
  connectInProcess (): Duplex {
    const [client, server] = duplexPair()
    this.inProcess.add(server)
    this.aedes.handle(server)
    return client
  }

  async start (): Promise<void> {
    await this.parts.build(() => this.build())
  }

  /** The clients connected to this instance now, by kind (the metrics). */
  connections (): Record<ConnectionKind, number> {
    return connectionsByKind(this.aedes, this.hooks === undefined ? undefined : { hooks: this.hooks, access: this.deps.access as AccessControl })
  }

  async stop (): Promise<void> {
    await this.parts.stop()
    this.started = undefined
  }

  private async build (): Promise<void> {
    const { config, logger, persistence, access } = this.deps
    const hooks = access === undefined
      ? undefined
      : new AccessHooks({ access, owners: persistence.owners, relays: persistence.printerRelays, throttle: this.deps.throttle ?? new LoginThrottle({ limits: loginLimitsOf(config) }), isInProcess: (conn) => this.inProcess.has(conn), logger })
    this.hooks = hooks
    const accessHooks = hooks?.hooks()
    const aedes = await Aedes.createBroker({
      heartbeatInterval: config.HEARTBEAT_INTERVAL_MS,
      ...(persistence.instance === undefined ? {} : { persistence: persistence.instance }),
      ...(persistence.mq === undefined ? {} : { mq: persistence.mq }),
      ...(accessHooks ?? {})
    })
    // Built before anything starts, so that the stop below names only parts that exist.
    const durable = new DurablePublish({ aedes, logger })
    const live = new LiveClients({ aedes, store: persistence.liveClients })
    const limits = new JobQueueLimits({
      aedes,
      counts: persistence.queueCounts,
      relays: persistence.printerRelays,
      topicPrefix: config.TOPIC_PREFIX,
      limits: { maxJobs: config.MAX_QUEUED_JOBS, maxBytes: config.MAX_QUEUED_BYTES },
      alive: (broker) => persistence.liveClients.alive(broker),
      logger
    })
    // Every job's state, from what is published (best effort, in the background: never before a PUBACK).
    const { metrics } = this.deps
    const history = new JobHistoryTap({ aedes, store: persistence.jobHistory, topicPrefix: config.TOPIC_PREFIX, userOf: hooks === undefined ? undefined : (client) => hooks.userOf(client), logger, metrics })
    // Aedes closes first (its clients' Wills are published through the parts below), then the parts stop.
    this.parts.onStop('aedes', async () => {
      logger.debug({ clients: aedes.connectedClients }, 'closing aedes')
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      durable.stop()
      await live.stop()
      await limits.stop()
      await history.stop()
    })
    history.start()
    // A QoS 1 PUBACK only once the message is stored for every session it matches.
    durable.start()
    // Who is connected, across broker instances on one Redis, for the log-in checks in the hooks.
    await live.start()
    await limits.start()
    // Jobs are noted for the history once the access checks allow them, before the gate may refuse them.
    new PublishGate({ aedes, durable, limits, authorize: history.authorizeAndNote(accessHooks?.authorizePublish), topicPrefix: config.TOPIC_PREFIX, logger }).start()
    // After the access hooks: one relay per printer.
    new RelayExclusivity({ aedes, relays: persistence.printerRelays, live, topicPrefix: config.TOPIC_PREFIX, logger }).start()
    if (hooks !== undefined && access !== undefined) {
      hooks.attach(aedes, live)
      // A user whose entry changed or went away in AUTH_FILE is disconnected, to log in again under the new rules.
      const disconnect = (users: string[]): void => hooks.disconnectUsers(aedes, users)
      access.on('usersChanged', disconnect)
      this.parts.onStop('users watch', () => { access.off('usersChanged', disconnect) })
    }
    this.watch(aedes)
    this.started = aedes
    // The printers' states as retained before this start (a restart with level or redis), for the metrics.
    if (metrics !== undefined) await seedPrinterStates(aedes, metrics, config.TOPIC_PREFIX, logger)
  }

  private watch (aedes: Aedes): void {
    const { logger } = this.deps
    aedes.on('client', (client) => logger.debug({ clientId: clipForLog(client.id) }, 'client connected'))
    aedes.on('clientDisconnect', (client) => logger.debug({ clientId: clipForLog(client.id) }, 'client disconnected'))
    aedes.on('clientError', (client, error) => logger.debug({ clientId: clipForLog(client.id), err: error }, 'client error'))
    aedes.on('connectionError', (_client, error) => logger.debug({ err: error }, 'connection error'))
    // Aedes emits 'error' when a store fails outside any client's request (publishing a dead instance's Wills
    // while Redis is down): without a listener that would end the process (aedes/README.md).
    ;(aedes as unknown as NodeJS.EventEmitter).on('error', (error: Error) => logger.error({ err: error }, 'broker error (its store failed); carrying on'))
  }
}
