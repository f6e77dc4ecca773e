/**
 * The job history in Mosquitto mode: Mosquitto records nothing, so the web server, as an MQTT client (an admin,
 * like its `server/time` publisher), reads every printer's `jobs`, `responses`, `errors` and `cancel` topics and
 * records what they say (runtime/jobHistory/jobHistoryRecorder.ts) in a LevelDB of its own under DATA_DIR. It
 * cannot know who published a job (Mosquitto does not say): the user is recorded as unknown. Messages published
 * while the web server is down are not seen (a clean session: two web servers on one broker must not take each
 * other's session). With `metrics`, it also feeds the web server's metrics (runtime/printwireMetrics.ts) from the same
 * messages, and from every printer's retained `status`.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { Level } from 'level'
import mqtt, { type MqttClient } from 'mqtt'
import { anyPrinterTopic, parsePrinterTopic } from '../../protocol/index.ts'
import type { JobHistoryReader } from '../../protocol/jobHistory.ts'
import { JobHistoryRecorder } from '../../runtime/jobHistory/jobHistoryRecorder.ts'
import { historyLimits, type JobHistoryStore, type Now } from '../../runtime/jobHistory/jobHistoryStore.ts'
import { LevelJobHistory } from '../../runtime/jobHistory/levelJobHistory.ts'
import { MemoryJobHistory } from '../../runtime/jobHistory/memoryJobHistory.ts'
import type { Logger } from '../../runtime/logger.ts'
import type { PrintwireMetrics } from '../../runtime/printwireMetrics.ts'

export interface JobHistoryClientDeps {
  config: {
    MQTT_URL: string
    MQTT_USERNAME?: string | undefined
    MQTT_PASSWORD?: string | undefined
    TOPIC_PREFIX: string
    DATA_DIR: string
    JOB_HISTORY_DAYS: number
    JOB_HISTORY_PER_PRINTER: number
  }
  logger: Logger
  now?: Now
  metrics?: PrintwireMetrics
}

/** The web server's LevelDB, under DATA_DIR. */
export const WEB_HISTORY_DIR = 'web-job-history'

async function openLevel (dir: string): Promise<Level<string, string>> {
  await mkdir(dir, { recursive: true })
  const db = new Level<string, string>(dir)
  await db.open()
  return db
}

export class JobHistoryClient {
  private readonly deps: JobHistoryClientDeps
  private db: Level<string, string> | undefined
  private store: JobHistoryStore | undefined
  private recorder: JobHistoryRecorder | undefined
  private client: MqttClient | undefined
  private markSubscribed: () => void = () => {}
  /** Resolves once the topics are first subscribed (start() does not wait for the broker). */
  readonly subscribed: Promise<void>

  constructor (deps: JobHistoryClientDeps) {
    this.deps = deps
    this.subscribed = new Promise((resolve) => { this.markSubscribed = resolve })
  }

  /** What the HTTP API and the dashboard read. */
  get history (): JobHistoryReader {
    if (this.store === undefined) throw new Error('job history not started')
    return this.store
  }

  /** Resolves once every message received so far is recorded (tests). */
  async idle (): Promise<void> {
    await this.recorder?.idle()
  }

  async start (): Promise<void> {
    const { config, logger } = this.deps
    const dir = path.resolve(config.DATA_DIR, WEB_HISTORY_DIR)
    const now = this.deps.now === undefined ? {} : { now: this.deps.now }
    const db = await openLevel(dir).catch((error: unknown) => {
      // Best effort, like the rest of the history: the page and the proxy still work.
      logger.error({ err: error, dir }, 'job history: cannot open its LevelDB (DATA_DIR not writable, or used by another web server): kept in memory only, lost on restart')
      return undefined
    })
    this.db = db
    this.store = db === undefined
      ? new MemoryJobHistory({ limits: historyLimits(config), ...now })
      : new LevelJobHistory({ db, limits: historyLimits(config), ...now })
    const metrics = this.deps.metrics
    const recorder = new JobHistoryRecorder({ store: this.store, topicPrefix: config.TOPIC_PREFIX, logger, ...now, ...(metrics === undefined ? {} : { watch: (seen) => metrics.jobMessage(seen) }) })
    this.recorder = recorder
    const topics = (['jobs', 'responses', 'errors'] as const).map((kind) => anyPrinterTopic(config.TOPIC_PREFIX, kind))
    topics.push(`${config.TOPIC_PREFIX}/+/cancel`)
    if (metrics !== undefined) topics.push(anyPrinterTopic(config.TOPIC_PREFIX, 'status'))
    const client = mqtt.connect(config.MQTT_URL, {
      protocolVersion: 4,
      clientId: `printwire-history-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 2000,
      ...(config.MQTT_USERNAME === undefined ? {} : { username: config.MQTT_USERNAME }),
      ...(config.MQTT_PASSWORD === undefined ? {} : { password: config.MQTT_PASSWORD })
    })
    this.client = client
    client.on('message', (topic, payload) => {
      const status = metrics === undefined || !topic.endsWith('/status') ? null : parsePrinterTopic(config.TOPIC_PREFIX, topic)
      if (status?.kind === 'status') metrics?.statusMessage(status.printerId, payload)
      else recorder.observe(topic, payload, { user: null })
    })
    client.on('error', (error) => logger.warn({ err: error, url: config.MQTT_URL }, 'job history: broker refused or unreachable; retrying'))
    client.on('connect', () => {
      // Subscribed again at every connection (a clean session keeps nothing).
      client.subscribe(topics, { qos: 1 }, (error, granted) => {
        const refused = granted?.filter((grant) => grant.qos === 128).map((grant) => grant.topic) ?? []
        if (error !== null && error !== undefined) logger.warn({ err: error }, 'job history: could not subscribe')
        else if (refused.length > 0) logger.warn({ refused, user: config.MQTT_USERNAME }, 'job history: subscriptions refused (MQTT_USERNAME must be an admin): jobs are not recorded')
        else {
          logger.info({ url: config.MQTT_URL, dir: db === undefined ? '(memory)' : dir }, 'job history recording')
          this.markSubscribed()
        }
      })
    })
  }

  async stop (): Promise<void> {
    await this.client?.endAsync()
    await this.recorder?.stop()
    await this.db?.close()
  }
}
