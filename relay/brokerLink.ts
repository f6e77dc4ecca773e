/**
 * One printer's MQTT connection. One connection per printer, because MQTT allows one Last Will per
 * connection and each printer needs its own retained `offline` (SPEC "Results"). Persistent session
 * (`clean: false`, stable client id) so jobs published while the relay is away are delivered when it
 * returns. Jobs are taken in `handleMessage`, which acknowledges them (PUBACK) only once `onJob` has
 * taken them in: it never waits for the printer.
 *
 * The same connection reads the printer's `cancel` topic (SPEC "No relay, cancel"): a cancel is acknowledged only
 * once `onCancel` has made its effect durable; one it cannot (a full disk) is not, and comes again on a new
 * connection.
 *
 * A job the relay cannot take because its disk is full (`RELAY_DISK_FULL`) is not acknowledged, so the broker
 * keeps it; the jobs delivered after it on that connection are withheld too, so that order holds. MQTT 3.1.1
 * delivers an unacknowledged message again only on a new connection, so once the relay can write again
 * (`resume`) the link disconnects cleanly (a DISCONNECT: no Last Will, no `offline` flicker) and reconnects at
 * once. It does not hold the acknowledgement meanwhile: mqtt.js would process no other packet, not even the
 * broker's PINGRESP, and drop the connection after a keepalive anyway.
 */
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt'
import {
  cancelTopic, errorsTopic, jobsTopic, RELAY_CONFLICT_TOPIC, relayClientId, responsesTopic, SERVER_TIME_TOPIC, statusTopic,
  type JobErrorMessage, type JobResult, type PrinterState, type PrinterStatusMessage
} from '../protocol/index.ts'
import { ConfigError } from '../runtime/config.ts'
import { disableNagle } from '../runtime/noDelay.ts'
import type { Logger } from '../runtime/logger.ts'
import type { RelayConfig } from './config.ts'
import { BrokerTrouble } from './brokerTrouble.ts'
import { TakeoverWatch } from './takeoverWatch.ts'

export interface BrokerLinkDeps {
  config: Pick<RelayConfig, 'MQTT_URL' | 'RELAY_ID' | 'MQTT_USERNAME' | 'MQTT_PASSWORD' | 'MQTT_CA_FILE' | 'TOPIC_PREFIX' | 'MQTT_KEEPALIVE_S'>
  printerId: string
  logger: Logger
  /** Takes a job in, resolving once it is safe; must not wait for the printer. Called in delivery order. */
  onJob: (payload: Buffer) => Promise<void> | void
  /** A job delivered as a retained message (printerWorker.ts `refuseRetained`); resolves once answered. */
  onRetainedJob: (payload: Buffer) => Promise<void> | void
  /** Takes a cancel request in, resolving once its effect is durable (or it has none). Called in delivery order. */
  onCancel: (payload: Buffer) => Promise<void> | void
  /** A job delivered after one the relay could not take (disk full) is not offered: its client is to be told. */
  onWithheld: (payload: Buffer) => void
  /** The state to announce when the connection (re)opens, and the jobs waiting in the relay. */
  currentState: () => { state: PrinterState, detail?: string, queued?: number }
  /** Called after each CONNACK; `first` on the first one of this process. */
  onConnect?: (first: boolean) => void
  /** Takes a `server/time` payload (the broker's time, brokerClock.ts); without it the link does not sample it. */
  onServerTime?: (payload: string) => void
}

/** How often a connection samples `server/time` again after the sample it takes on connecting. */
export const SERVER_TIME_RESAMPLE_MS = 10 * 60_000

/** After the broker refused this relay a printer's jobs (another relay serves it), how long until it asks again. */
export const CONFLICT_RETRY_MS = 30_000

export class BrokerLink {
  private readonly deps: BrokerLinkDeps
  private client: MqttClient | undefined
  /** A `server/time` subscription is open for one sample. */
  private sampling = false
  private resampleTimer: NodeJS.Timeout | undefined
  private warnedTimeRefused = false
  /** A job was not acknowledged on this connection for a full disk: the following ones are withheld too. */
  private withholding = false
  /** Disconnecting to reconnect (`resume`): publishes wait for the new connection. */
  private cycling = false
  private stopping = false
  private deferred: Array<() => void> = []
  /** This process's connection, named in its Will and status (relayExclusivity.ts on the broker). */
  private readonly instance = randomUUID()
  /** The broker refused the jobs subscription (another relay serves the printer): standing down until retried. */
  private conflicted = false
  private conflictTimer: NodeJS.Timeout | undefined
  /** The jobs subscription has been granted on a connection of this process before (`onConnect`'s `first`). */
  private subscribedBefore = false

  /** The broker accepted the current connection (CONNACK). */
  private accepted = false
  /** Connection failures, said once per episode (brokerTrouble.ts). */
  private readonly trouble: BrokerTrouble
  /** Connections closed right after they open: another process with this RELAY_ID (takeoverWatch.ts). */
  private readonly takeover: TakeoverWatch

  constructor (deps: BrokerLinkDeps) {
    this.deps = deps
    const clientId = relayClientId(deps.config.RELAY_ID, deps.printerId)
    this.trouble = new BrokerTrouble({ logger: deps.logger, url: deps.config.MQTT_URL, username: deps.config.MQTT_USERNAME, relayId: deps.config.RELAY_ID, clientId })
    this.takeover = new TakeoverWatch({ logger: deps.logger, relayId: deps.config.RELAY_ID, printerId: deps.printerId, clientId })
  }

  get clientId (): string {
    return relayClientId(this.deps.config.RELAY_ID, this.deps.printerId)
  }

  get connected (): boolean {
    return this.client?.connected ?? false
  }

  async start (): Promise<void> {
    const { config, logger } = this.deps
    const ca = config.MQTT_CA_FILE === undefined ? undefined : await readCaFile(config.MQTT_CA_FILE)
    const client = mqtt.connect(config.MQTT_URL, this.connectOptions(ca))
    disableNagle(client)
    // Assigned before CONNACK can arrive: queued jobs may be delivered right after it.
    client.handleMessage = (packet: IPublishPacket, callback) => { this.takeJob(packet, callback) }
    this.client = client
    client.on('connect', (connack) => this.onConnack(client, connack.sessionPresent))
    this.resampleTimer = setInterval(() => this.sampleServerTime(), SERVER_TIME_RESAMPLE_MS)
    client.on('reconnect', () => logger.debug('reconnecting to broker'))
    client.on('offline', () => logger.warn('broker connection lost; reconnecting'))
    client.on('error', (error) => this.trouble.failed(error))
    // (Ended by the relay itself: stopping, `resume`'s reconnect, standing down for another relay.)
    client.on('close', () => {
      const byUs = this.stopping || this.cycling || this.conflicted
      this.takeover.closed(byUs)
      if (!byUs) this.trouble.closed(this.accepted)
      this.accepted = false
    })
  }

  private connectOptions (ca: Buffer | undefined): IClientOptions {
    const { config, printerId } = this.deps
    const will: PrinterStatusMessage = { printerId, state: 'offline', detail: 'relay disconnected', relayId: config.RELAY_ID, instance: this.instance, at: new Date().toISOString() }
    return {
      clientId: this.clientId,
      clean: false,
      protocolVersion: 4,
      keepalive: config.MQTT_KEEPALIVE_S,
      // After a broker restart thousands of relays reconnect at once, faster than the broker takes them in: a
      // patient connect and retries spread in time keep the storm from feeding itself, where a short connect
      // timeout and quick retries did not (bench/scenarios/scale.ts; its figures are in BENCHMARKS.md).
      reconnectPeriod: 1000 + Math.floor(Math.random() * 2000),
      // mqtt.js 5 stops reconnecting after a refused CONNACK unless told otherwise: a relay refused once (its
      // RELAY_ID still connected, a store error, a log-in blocked for a while) must keep trying, as it logs.
      reconnectOnConnackError: true,
      connectTimeout: 30_000,
      resubscribe: false,
      ...(config.MQTT_USERNAME === undefined ? {} : { username: config.MQTT_USERNAME }),
      ...(config.MQTT_PASSWORD === undefined ? {} : { password: config.MQTT_PASSWORD }),
      ...(ca === undefined ? {} : { ca }),
      will: { topic: statusTopic(config.TOPIC_PREFIX, printerId), payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true }
    }
  }

  /** A CONNACK: resumes what waited for a connection, and subscribes to the printer's jobs. */
  private onConnack (client: MqttClient, sessionPresent: boolean): void {
    this.accepted = true
    this.trouble.connected()
    this.takeover.connected()
    this.deps.logger.info({ sessionPresent, clientId: this.clientId }, 'connected to broker')
    this.sampling = false
    this.sampleServerTime()
    // A new connection: the broker delivers what was not acknowledged again.
    this.withholding = false
    if (this.cycling) {
      this.cycling = false
      for (const publish of this.deferred.splice(0)) publish()
    }
    this.subscribeJobs(client)
  }

  /**
   * The printer's jobs and cancels, subscribed on every connection, session present or not: a session whose
   * subscription was once refused (another relay served the printer) is present without it, and the broker checks
   * each SUBSCRIBE against the printer's relay (relayExclusivity.ts). MQTT makes a repeated SUBSCRIBE harmless.
   */
  private subscribeJobs (client: MqttClient): void {
    const { config, printerId, logger } = this.deps
    const jobs = jobsTopic(config.TOPIC_PREFIX, printerId)
    const cancel = cancelTopic(config.TOPIC_PREFIX, printerId)
    client.subscribe({ [jobs]: { qos: 1 }, [cancel]: { qos: 1 } }, (error, _granted, suback) => {
      // mqtt.js reports a refused subscription (SUBACK 0x80) as an error that carries the SUBACK, in the order asked.
      const codes = suback?.granted ?? []
      const [jobsCode, cancelCode] = codes as Array<number | undefined>
      if (jobsCode === 128) return this.standDown(client)
      if (jobsCode === undefined) return logger.error({ err: error }, 'could not subscribe to jobs')
      if (cancelCode !== 1) logger.error({ granted: codes, user: config.MQTT_USERNAME }, `the broker refused this relay ${cancel} (or granted it at another QoS): cancels are not applied; grant the relay user read on it (with Mosquitto, run \`printwire mosquitto-export\` again)`)
      if (jobsCode !== 1) return logger.error({ granted: codes }, 'the broker granted the jobs subscription at another QoS')
      if (this.conflicted) logger.info('the broker now gives this relay the printer\'s jobs')
      this.conflicted = false
      this.subscribed()
    })
  }

  /** Announced once subscribed: a client that sees the printer's status can print on it. */
  private subscribed (): void {
    const { state, detail, queued } = this.deps.currentState()
    this.publishStatus(state, detail, queued)
    const first = !this.subscribedBefore
    this.subscribedBefore = true
    this.deps.onConnect?.(first)
  }

  /**
   * The relay can take jobs again: if it withheld some on this connection, reconnect so that the broker
   * delivers them again.
   */
  resume (): void {
    const client = this.client
    if (client === undefined || !this.withholding || this.cycling || this.stopping || !client.connected) return
    this.cycling = true
    this.deps.logger.info('reconnecting to the broker so that it delivers the withheld jobs again')
    // end(false) waits for the messages in flight, then sends DISCONNECT (the broker drops the Will).
    client.end(false, () => {
      if (this.client === client && !this.stopping) client.reconnect()
    })
  }

  /**
   * The broker refused this relay the printer's jobs: another relay serves it. Says so in the log and in the
   * printer's status, then leaves with a DISCONNECT (its Will would announce the printer `offline` while the
   * other relay serves it) and asks again after CONFLICT_RETRY_MS.
   */
  private standDown (client: MqttClient): void {
    const { logger, config, printerId } = this.deps
    this.conflicted = true
    logger.error({ relayId: config.RELAY_ID, retryInMs: CONFLICT_RETRY_MS }, 'the broker refused this relay the printer\'s jobs: another relay (another RELAY_ID) serves this printer, and two would print every job twice. This relay prints nothing for it: stop one of the two (README "One relay per printer")')
    const status: PrinterStatusMessage = {
      printerId,
      state: 'error',
      detail: `two relays for one printer: relay ${config.RELAY_ID} was refused because another relay serves it; stop one of them`,
      relayId: config.RELAY_ID,
      instance: this.instance,
      at: new Date().toISOString()
    }
    client.publish(statusTopic(config.TOPIC_PREFIX, printerId), JSON.stringify(status), { qos: 1, retain: true }, () => {
      client.end(false, () => {
        if (this.stopping || this.client !== client) return
        this.conflictTimer = setTimeout(() => { if (!this.stopping) client.reconnect() }, CONFLICT_RETRY_MS)
      })
    })
  }

  async stop (): Promise<void> {
    clearTimeout(this.conflictTimer)
    clearInterval(this.resampleTimer)
    this.stopping = true
    const client = this.client
    if (client === undefined) return
    // (A relay standing down for another never speaks for the printer's state.)
    if (client.connected && !this.conflicted) {
      this.publishStatus('offline', 'relay stopped', this.deps.currentState().queued)
    }
    await client.endAsync()
    this.client = undefined
  }

  /** Publishes a job's result or error; `onAcked` runs once the broker has it (PUBACK). */
  publishOutcome (message: JobResult | JobErrorMessage, kind: 'result' | 'error', onAcked: () => void): void {
    const { config, printerId } = this.deps
    const topic = kind === 'result' ? responsesTopic(config.TOPIC_PREFIX, printerId) : errorsTopic(config.TOPIC_PREFIX, printerId)
    this.publish(topic, message, false, onAcked)
  }

  /** Publishes the printer's retained status; `queued`: the jobs waiting in the relay, when known. */
  publishStatus (state: PrinterState, detail?: string, queued?: number): void {
    const message: PrinterStatusMessage = { printerId: this.deps.printerId, state, relayId: this.deps.config.RELAY_ID, instance: this.instance, at: new Date().toISOString() }
    if (detail !== undefined) message.detail = detail
    if (queued !== undefined) message.queued = queued
    this.publish(statusTopic(this.deps.config.TOPIC_PREFIX, this.deps.printerId), message, true)
  }

  private publish (topic: string, message: object, retain: boolean, onAcked?: () => void): void {
    const client = this.client
    if (client === undefined) return
    if (this.cycling) {
      // mqtt.js refuses publishes while it disconnects: they go on the new connection.
      this.deferred.push(() => this.publish(topic, message, retain, onAcked))
      return
    }
    // While the broker is away, mqtt.js keeps QoS 1 messages and sends them when it is back.
    client.publish(topic, JSON.stringify(message), { qos: 1, retain }, (error) => {
      if (error) this.deps.logger.warn({ err: error, topic }, 'publish failed')
      else onAcked?.()
    })
  }

  /**
   * Subscribes to `server/time` (QoS 0) until one message arrives: one sample per connection and per
   * SERVER_TIME_RESAMPLE_MS, rather than a message a second to every relay for as long as it is connected.
   */
  private sampleServerTime (): void {
    const client = this.client
    if (client === undefined || this.deps.onServerTime === undefined || this.sampling || !client.connected) return
    this.sampling = true
    client.subscribe(SERVER_TIME_TOPIC, { qos: 0 }, (error, granted) => {
      if (!error && !(granted ?? []).some((g) => g.qos === 128)) return
      this.sampling = false
      if (this.warnedTimeRefused) return
      this.warnedTimeRefused = true
      this.deps.logger.warn({ err: error, user: this.deps.config.MQTT_USERNAME }, 'the broker refused server/time to this relay: expiresAt is judged by the relay\'s own clock (grant the relay user read on server/time)')
    })
  }

  /** A `server/time` message: the sample is taken, the subscription dropped until the next one. */
  private takeServerTime (payload: Buffer): void {
    this.deps.onServerTime?.(payload.toString('utf8'))
    if (!this.sampling) return
    this.sampling = false
    this.client?.unsubscribe(SERVER_TIME_TOPIC, (error) => {
      if (error) this.deps.logger.debug({ err: error }, 'could not unsubscribe from server/time')
    })
  }

  private takeJob (packet: IPublishPacket, callback: (error?: Error) => void): void {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
    if (packet.topic === SERVER_TIME_TOPIC) {
      // A retained server/time is someone's old message, not the broker's clock now.
      if (!packet.retain) this.takeServerTime(payload)
      callback()
      return
    }
    if (packet.topic === RELAY_CONFLICT_TOPIC) {
      // The embedded broker refused another process with this RELAY_ID (relayExclusivity.ts): said, never a job.
      this.takeover.toldByBroker()
      callback()
      return
    }
    // A cancel (SPEC "No relay, cancel") goes the way of a job, and is acknowledged once its effect is on disk. (A
    // retained one is applied like any other: applied again, it finds the job finished.)
    const cancel = packet.topic === cancelTopic(this.deps.config.TOPIC_PREFIX, this.deps.printerId)
    if (packet.retain && !cancel) {
      // A retained job would come again to every new relay session: never printed from there.
      Promise.resolve(this.deps.onRetainedJob(payload)).then(() => callback(), (error: Error) => {
        this.deps.logger.warn({ err: error }, 'could not answer a retained job: not acknowledged')
        callback(error)
      })
      return
    }
    if (cancel && this.conflicted) {
      // Another relay serves the printer (its session reads the cancels too): not this one's to answer.
      this.deps.logger.debug('cancel not applied: another relay serves this printer')
      callback()
      return
    }
    if (this.withholding) {
      // Not acknowledged: it comes again, after the one withheld before it, on the next connection.
      if (!cancel) this.deps.onWithheld(payload)
      callback(new Error('withheld: the relay cannot write to its disk'))
      return
    }
    Promise.resolve()
      .then(() => cancel ? this.deps.onCancel(payload) : this.deps.onJob(payload))
      .then(() => callback(), (error: unknown) => {
        // Not taken in: no PUBACK, so the broker delivers it again (on a new connection).
        const what = cancel ? 'cancel' : 'job'
        if ((error as { code?: unknown }).code === 'RELAY_DISK_FULL') {
          this.withholding = true
          this.deps.logger.warn({ reason: (error as Error).message }, `${what} not taken: the disk is full; the broker keeps it, and it is taken once the relay can write`)
        } else {
          this.deps.logger.error({ err: error }, `could not take a ${what} in; it stays with the broker`)
        }
        callback(error as Error)
      })
  }
}

/** MQTT_CA_FILE, read; a file that cannot be read is a configuration error naming it. */
export async function readCaFile (file: string): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (error) {
    throw new ConfigError('relay', [`MQTT_CA_FILE: cannot read ${file}: ${(error as Error).message}`])
  }
}
