/**
 * Ends the session a relay of an earlier version kept under the earlier client id,
 * `printwire-relay-<RELAY_ID>-<printer>` (protocol/topics.ts), once per printer and state directory.
 *
 * That session stays subscribed to the printer's jobs after an upgrade: the broker would queue every job for it
 * as well, for ever, and the jobs queued there before the upgrade would never print. Once the relay's own
 * session is subscribed (so no job falls between the two), this connects once under the earlier id, takes what
 * is queued there through the relay's usual intake (spooled before it is acknowledged, duplicates answered by id),
 * stops the subscription, and ends the session with a clean connection. A file in STATE_DIR records that it
 * is done; a failure (a broker that refuses the id, a full disk) is logged and tried again at the next start.
 */
import { access, writeFile } from 'node:fs/promises'
import path from 'node:path'
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt'
import { jobsTopic, legacyRelayClientId } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { readCaFile } from './brokerLink.ts'
import type { RelayConfig } from './config.ts'

/** How long the earlier session must stay quiet before what it held counts as all delivered. */
export const LEGACY_QUIET_MS = 1500

/** The first wait before trying again after a failure. */
export const LEGACY_RETRY_MS = 2000

export interface LegacySessionDeps {
  config: Pick<RelayConfig, 'MQTT_URL' | 'RELAY_ID' | 'MQTT_USERNAME' | 'MQTT_PASSWORD' | 'MQTT_CA_FILE' | 'TOPIC_PREFIX' | 'STATE_DIR'>
  printerId: string
  logger: Logger
  /** The relay's intake: resolves once the job is safe (as BrokerLink's onJob). */
  onJob: (payload: Buffer) => Promise<void> | void
}

export class LegacySession {
  private readonly deps: LegacySessionDeps
  private client: MqttClient | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private retryTimer: NodeJS.Timeout | undefined
  private wake: (() => void) | undefined

  constructor (deps: LegacySessionDeps) {
    this.deps = deps
  }

  /**
   * Starts ending the earlier session in the background, tried again with backoff (LEGACY_RETRY_MS doubling, at
   * most a minute) while it fails: a broker restart, a full disk. `done` resolves once it is ended, or stopped.
   */
  start (): void {
    this.running = this.attempts()
  }

  private async attempts (): Promise<void> {
    let delay = LEGACY_RETRY_MS
    while (!this.stopped) {
      try {
        await this.run()
        return
      } catch (error) {
        if (this.stopped) return
        this.deps.logger.warn({ err: error, clientId: this.clientId, retryInMs: delay }, 'could not end the session of an earlier relay version yet; trying again')
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve
        this.retryTimer = setTimeout(resolve, delay)
      })
      delay = Math.min(delay * 2, 60_000)
    }
  }

  get done (): Promise<void> {
    return this.running ?? Promise.resolve()
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.wake?.()
    this.client?.end(true)
    await this.running
  }

  private get clientId (): string {
    return legacyRelayClientId(this.deps.config.RELAY_ID, this.deps.printerId)
  }

  private get marker (): string {
    return path.resolve(this.deps.config.STATE_DIR, `legacy-session-ended-${this.deps.printerId}`)
  }

  private async run (): Promise<void> {
    if (await access(this.marker).then(() => true, () => false)) return
    const taken = await this.drain()
    if (this.stopped) return
    // A clean connection under the id ends the session (and the subscription with it); without an earlier
    // session it ends the empty one the check above made.
    await this.connect(true).then(({ client }) => client.endAsync())
    await writeFile(this.marker, `${new Date().toISOString()}\n`)
    if (taken === undefined) this.deps.logger.debug({ clientId: this.clientId }, 'no session of an earlier relay version')
    else this.deps.logger.info({ clientId: this.clientId, jobs: taken }, 'the session of an earlier relay version is ended')
  }

  /** Takes what the earlier session holds; how many jobs it had, or undefined when there was none. */
  private async drain (): Promise<number | undefined> {
    let taken = 0
    let last = Date.now()
    let inFlight = 0
    let failure: Error | undefined
    const { client, sessionPresent } = await this.connect(false, (packet, callback) => {
      inFlight++
      last = Date.now()
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
      Promise.resolve()
        .then(() => packet.retain ? undefined : this.deps.onJob(payload))
        .then(() => { taken++; callback() }, (error: Error) => {
          // Not acknowledged: the job stays in that session, which is not ended; tried again later.
          failure ??= error
          this.client?.end(true)
        })
        .finally(() => { inFlight--; last = Date.now() })
    })
    if (!sessionPresent) {
      await client.endAsync()
      return undefined
    }
    // Every wait ends when the connection does: a broker restart mid-drain is a failure, tried again.
    let closed = false
    const ended = new Promise<never>((_resolve, reject) => client.once('close', () => { closed = true; reject(new Error('the connection closed while the earlier session was emptied')) }))
    ended.catch(() => {})
    const quiet = async (): Promise<void> => {
      while (!this.stopped && !closed && (inFlight > 0 || Date.now() - last < LEGACY_QUIET_MS)) await new Promise((resolve) => setTimeout(resolve, 100))
      if (closed) await ended
    }
    try {
      await quiet()
      if (!this.stopped) {
        await Promise.race([client.unsubscribeAsync(jobsTopic(this.deps.config.TOPIC_PREFIX, this.deps.printerId)), ended])
        last = Date.now()
        await quiet()
      }
    } catch (error) {
      throw failure ?? error
    } finally {
      client.end(true)
    }
    if (failure !== undefined) throw failure
    if (this.stopped) throw new Error('stopped before the earlier session was emptied')
    return taken
  }

  /** A connection under the earlier id (persistent unless `clean`), taking what it is sent through `handle`. */
  private async connect (clean: boolean, handle?: (packet: IPublishPacket, callback: (error?: Error) => void) => void): Promise<{ client: MqttClient, sessionPresent: boolean }> {
    const { config } = this.deps
    const ca = config.MQTT_CA_FILE === undefined ? undefined : await readCaFile(config.MQTT_CA_FILE)
    const client = mqtt.connect(config.MQTT_URL, {
      ...(ca === undefined ? {} : { ca }),
      clientId: this.clientId,
      clean,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
      ...(config.MQTT_USERNAME === undefined ? {} : { username: config.MQTT_USERNAME }),
      ...(config.MQTT_PASSWORD === undefined ? {} : { password: config.MQTT_PASSWORD })
    })
    // Assigned before CONNACK: what the session holds comes right after it.
    if (handle !== undefined) client.handleMessage = handle
    this.client = client
    const sessionPresent = await new Promise<boolean>((resolve, reject) => {
      client.once('connect', (connack) => resolve(connack.sessionPresent))
      client.once('error', reject)
      client.once('close', () => reject(new Error('connection closed before CONNACK')))
    })
    client.on('error', (error) => this.deps.logger.debug({ err: error }, 'earlier session connection error'))
    return { client, sessionPresent }
  }
}
