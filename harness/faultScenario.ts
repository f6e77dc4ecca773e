/**
 * The fault scenario behind `npm test`'s fault suite and `npm run soak` (same code, other numbers): a stream
 * of jobs with distinct ids is published while the relay is killed with SIGKILL, the broker is restarted,
 * and the simulated printer drops connections and runs out of paper. At the end it counts, per id, what the
 * printer printed and what the publisher was told, and says whether every id printed exactly once or was
 * reported UNCERTAIN, and whether anything was lost.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { BocaSimulator } from '../printer-sim/bocaSimulator.ts'
import { silentLogger } from '../runtime/logger.ts'
import { TestClient } from './mqttClient.ts'
import { freePort } from './ports.ts'
import { PartProcess } from './processes.ts'
import { startRedis, type RedisServer } from './redisServer.ts'

export interface FaultScenarioOptions {
  persistence: 'level' | 'redis'
  jobs: number
  /** Milliseconds between two published jobs. */
  publishEveryMs: number
  relayKills: number
  /** Broker restarts after a graceful stop (SIGTERM). */
  brokerRestarts: number
  /** Broker restarts after a SIGKILL: what it acknowledged must survive (broker/aedes/durablePublish.ts). */
  brokerKills: number
  connectionDrops: number
  paperOuts: number
  /** How long to wait, after the last job, for every outcome. */
  settleMs: number
  /** Where progress lines go, if anywhere. */
  progress?: (line: string) => void
  /** A folder to write every broker and relay process's log lines to (one file each), for a run that failed. */
  logDir?: string
}

export interface FaultScenarioReport {
  options: FaultScenarioOptions
  jobs: number
  relayKills: number
  brokerRestarts: number
  brokerKills: number
  connectionDrops: number
  paperOuts: number
  printedOnce: number
  /** Ids printed more than once. */
  duplicates: string[]
  /** Ids answered UNCERTAIN (printed once or not at all). */
  uncertain: string[]
  /** Ids answered both with a result and with UNCERTAIN: two answers that disagree. */
  contradicted: string[]
  /** Ids neither printed nor reported: lost. */
  lost: string[]
  /** Ids printed but never answered with a result. */
  unanswered: string[]
  /** Other final errors, by code. */
  otherErrors: Record<string, number>
  /** Publishes the broker did not acknowledge, published again. */
  republished: number
  durationMs: number
  ok: boolean
}

const PRINTER = 'soak'
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Spreads `count` events over the publishing of `jobs` jobs: the job indexes after which each happens. */
function schedule (count: number, jobs: number, offset: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 1) * jobs) / (count + 1)) + offset)
}

export async function runFaultScenario (options: FaultScenarioOptions): Promise<FaultScenarioReport> {
  const started = Date.now()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'printwire-soak-'))
  const closers: Array<() => Promise<void>> = []
  let redis: RedisServer | undefined
  try {
    if (options.persistence === 'redis') {
      redis = await startRedis()
      closers.push(() => redis!.stop())
    }
    const brokerEnv: Record<string, string> = {
      PERSISTENCE: options.persistence,
      DATA_DIR: path.join(dir, 'broker'),
      MQTT_PORT: String(await freePort()),
      PORT: String(await freePort()),
      LOG_LEVEL: 'info',
      ...(redis === undefined ? {} : { REDIS_URL: redis.url })
    }
    const mqttUrl = `mqtt://127.0.0.1:${brokerEnv.MQTT_PORT}`
    const processes: Array<{ name: string, part: PartProcess }> = []
    const track = (name: string, part: PartProcess): PartProcess => {
      processes.push({ name: `${name}-${processes.filter((p) => p.name.startsWith(name)).length}`, part })
      return part
    }
    if (options.logDir !== undefined) {
      const logDir = options.logDir
      closers.push(async () => {
        await mkdir(logDir, { recursive: true })
        for (const { name, part } of processes) {
          await writeFile(path.join(logDir, `${name}.log`), part.logs.map((l) => JSON.stringify(l)).join('\n') + `\n${part.stderr}`)
        }
      })
    }
    let broker = track('broker', new PartProcess('broker/main.ts', brokerEnv))
    closers.push(() => broker.stop())
    await broker.waitForLog('broker listening')
    options.progress?.(`broker listening (${options.persistence})`)

    const printer = new BocaSimulator({ config: { host: '127.0.0.1', port: 0 }, logger: silentLogger() })
    await printer.start()
    closers.push(() => printer.stop())
    options.progress?.(`printer listening on ${printer.address}`)

    const relayEnv = {
      MQTT_URL: mqttUrl,
      PRINTERS: `${PRINTER}=${printer.address}`,
      RELAY_ID: 'soak',
      STATE_DIR: path.join(dir, 'relay'),
      STATUS_WAIT_MS: '1000',
      PRINTER_TIMEOUT_MS: '3000',
      RETRY_MIN_MS: '50',
      RETRY_MAX_MS: '500',
      MQTT_KEEPALIVE_S: '5',
      LOG_LEVEL: options.logDir === undefined ? 'warn' : 'info'
    }
    let relay = track('relay', new PartProcess('relay/main.ts', relayEnv))
    closers.push(() => relay.stop())

    // The publisher keeps its session (clean: false) so that outcomes published while the broker restarts reach it.
    const client = await TestClient.connect(mqttUrl, { clean: false, clientId: `soak-${randomUUID().slice(0, 8)}`, reconnectPeriod: 200 })
    closers.push(() => client.stop())
    await client.subscribe(`printers/${PRINTER}/responses`, `printers/${PRINTER}/errors`, `printers/${PRINTER}/status`)
    options.progress?.('publisher connected')
    await client.waitFor((m) => m.topic === `printers/${PRINTER}/status` && m.json?.state === 'online', 30_000, 'the relay online')
    options.progress?.('relay online')

    const kills = new Set(schedule(options.relayKills, options.jobs, 0))
    const restarts = new Set(schedule(options.brokerRestarts, options.jobs, 1))
    const drops = new Set(schedule(options.connectionDrops, options.jobs, 2))
    const paperOuts = new Set(schedule(options.paperOuts, options.jobs, 3))
    const brokerKills = new Set(schedule(options.brokerKills, options.jobs, 4))
    const ids = Array.from({ length: options.jobs }, (_, i) => `soak-${String(i).padStart(6, '0')}`)
    const pending: Array<Promise<void>> = []
    const report = { relayKills: 0, brokerRestarts: 0, brokerKills: 0, connectionDrops: 0, paperOuts: 0 }

    let republished = 0
    // As a careful client does: a publish the broker did not acknowledge (mqtt.js fails those in flight when a
    // connection closes) is published again, with the same id, until it is; the relay drops the duplicates.
    const publishUntilAcknowledged = async (id: string): Promise<void> => {
      const payload = JSON.stringify({ id, data: `<RC10,10><F3>${id}<p>` })
      for (;;) {
        try {
          await client.publish(`printers/${PRINTER}/jobs`, payload)
          return
        } catch {
          republished++
          await sleep(200)
        }
      }
    }
    for (const [i, id] of ids.entries()) {
      // Not awaited: the stream goes on while the broker restarts.
      pending.push(publishUntilAcknowledged(id))
      await sleep(options.publishEveryMs)
      if (i % 100 === 0) options.progress?.(`published ${i} of ${ids.length}`)
      if (kills.has(i)) {
        options.progress?.(`job ${i}: SIGKILL relay`)
        await relay.kill('SIGKILL')
        report.relayKills++
        relay = track('relay', new PartProcess('relay/main.ts', relayEnv))
      }
      if (restarts.has(i) || brokerKills.has(i)) {
        const signal = brokerKills.has(i) ? 'SIGKILL' : 'SIGTERM'
        options.progress?.(`job ${i}: ${signal} broker`)
        await broker.kill(signal)
        if (signal === 'SIGKILL') report.brokerKills++
        else report.brokerRestarts++
        broker = track('broker', new PartProcess('broker/main.ts', brokerEnv))
        await broker.waitForLog('broker listening')
      }
      if (drops.has(i)) {
        printer.dropConnections(1)
          }
      if (paperOuts.has(i)) {
        await printer.setState('paper-out')
        report.paperOuts++
        setTimeout(() => { void printer.setState('ready') }, 300)
      }
    }
    options.progress?.('all published; waiting for PUBACKs')
    await Promise.all(pending)
    options.progress?.(`all acknowledged by the broker (${republished} published again after a failed attempt); waiting for outcomes`)

    // Wait until every id has its last word, or the settle time is up.
    const isFinal = (m: { topic: string, json: any }): boolean =>
      m.json !== undefined && (m.topic.endsWith('/responses') || (m.topic.endsWith('/errors') && m.json.retryable === false))
    const deadline = Date.now() + options.settleMs
    const finalIds = (): Set<string> => new Set(client.messages.filter(isFinal).map((m) => m.json.jobId as string))
    while (Date.now() < deadline && finalIds().size < ids.length) await sleep(100)
    // Tickets still on their way (a job answered UNCERTAIN may print a moment later).
    await sleep(500)

    const printed = new Map<string, number>()
    for (const ticket of printer.tickets) {
      const id = /soak-\d{6}/.exec(ticket.bytes.toString('latin1'))?.[0]
      if (id !== undefined) printed.set(id, (printed.get(id) ?? 0) + 1)
    }
    const finals = new Map<string, { topic: string, json: any }>()
    for (const m of client.messages.filter(isFinal)) if (!finals.has(m.json.jobId)) finals.set(m.json.jobId, m)
    const answeredUncertain = new Set(client.messages.filter((m) => isFinal(m) && m.json.code === 'UNCERTAIN').map((m) => m.json.jobId as string))
    const contradicted = [...new Set(client.messages
      .filter((m) => m.topic.endsWith('/responses') && answeredUncertain.has(m.json.jobId))
      .map((m) => m.json.jobId as string))]
    const duplicates: string[] = []
    const uncertain: string[] = []
    const lost: string[] = []
    const unanswered: string[] = []
    const otherErrors: Record<string, number> = {}
    let printedOnce = 0
    for (const id of ids) {
      const count = printed.get(id) ?? 0
      const final = finals.get(id)
      if (count > 1) duplicates.push(id)
      if (final?.json.code === 'UNCERTAIN') {
        uncertain.push(id)
        continue
      }
      if (count === 1) printedOnce++
      if (count === 0 && final === undefined) lost.push(id)
      else if (final === undefined) unanswered.push(id)
      else if (final.topic.endsWith('/errors')) otherErrors[final.json.code] = (otherErrors[final.json.code] ?? 0) + 1
      else if (count === 0) lost.push(id)
    }
    report.connectionDrops = printer.droppedConnections
    const ok = duplicates.length === 0 && lost.length === 0 && unanswered.length === 0 &&
      Object.keys(otherErrors).length === 0 && uncertain.length <= report.relayKills + report.connectionDrops &&
      contradicted.length === 0
    return {
      options,
      jobs: ids.length,
      ...report,
      printedOnce,
      duplicates,
      uncertain,
      contradicted,
      lost,
      unanswered,
      otherErrors,
      republished,
      durationMs: Date.now() - started,
      ok
    }
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
}
