/**
 * Scenario 6, scale: N idle relay connections and M page connections on one embedded broker
 * (PERSISTENCE=level, AUTH_FILE): the broker's resident memory per connection, and how long every
 * connection takes to come back after the broker restarts on the same ports and data directory.
 *
 * The connections live in bench/scale/loadProcess.ts, a process of its own, so the broker's RSS and CPU
 * are its own. Relays log in as `ops` (admin), pages as `alice` (a client of printer `lobby`, like a box
 * office's page): two distinct users, so after a restart the broker verifies two scrypt passwords, plus
 * those of every login that arrives before the first verification of its user has finished.
 */
import { readFile } from 'node:fs/promises'
import { hashPassword, verifyPassword } from '../../access/passwordHash.ts'
import { PartProcess, type LogLine } from '../../test/helpers/processes.ts'
import { BENCH_USER, PASSWORDS, rssBytes, startAedes, type Cleanup } from '../harness/parts.ts'
import type { ScenarioResult } from '../harness/report.ts'
import type { Scenario, ScenarioContext } from '../harness/scenario.ts'
import type { Row } from '../harness/stats.ts'
import { RawClient } from '../scale/rawClient.ts'

const FULL = { relays: 10_000, browsers: 1_000 }
const QUICK = { relays: 50, browsers: 10 }
/** File descriptors a process needs besides its connections (LevelDB files, pipes, listeners). */
const FD_MARGIN = 512
/** Settle time before reading RSS, so that what a burst of handshakes left behind is mostly collected. */
const SETTLE_MS = 5000
const LOAD_SETTINGS = { HANDSHAKES: '500', KEEPALIVE_S: '60', RECONNECT_MIN_MS: '200', RECONNECT_MAX_MS: '2000', CONNECT_TIMEOUT_MS: '10000' }
const BROWSER_USER = { username: 'alice', password: PASSWORDS.alice }

const MiB = 2 ** 20
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const seconds = (ms: number): number => Math.round(ms / 10) / 100

/** Starts the embedded broker again with a stopped one's environment: same ports, same AUTH_FILE, same DATA_DIR. */
export async function restartAedes (cleanup: Cleanup, env: Record<string, string>, timeoutMs = 120_000): Promise<{ process: PartProcess, pid: number, listening: LogLine }> {
  const broker = cleanup.add(new PartProcess('broker/main.ts', { ...env, LOG_LEVEL: 'info' }))
  const listening = await broker.waitForLog('broker listening', timeoutMs)
  return { process: broker, pid: broker.child.pid ?? 0, listening }
}

/**
 * One login of each user before the baseline: each first login runs scrypt, whose 16 MiB work buffers stay
 * in the allocator's arenas afterwards; in the baseline they are not counted as connections' memory, and
 * the opening rounds then measure connections, not the first verification of a password.
 */
async function warmUp (mqttUrl: string, wsUrl: string): Promise<void> {
  const logins = [
    { url: mqttUrl, clientId: 'scale-warm-up-tcp', ...BENCH_USER },
    { url: wsUrl, clientId: 'scale-warm-up-ws', ...BROWSER_USER }
  ]
  await Promise.all(logins.map(async (login) => {
    let ready: () => void = () => {}
    const readyOnce = new Promise<void>((resolve) => { ready = resolve })
    const client = new RawClient({ ...login, clean: true, keepaliveS: 60, subscriptions: [], autoReconnect: false, events: { onReady: () => ready(), onClose: () => ready() } })
    client.start()
    await readyOnce
    const ok = client.connacks === 1
    await client.end()
    if (!ok) throw new Error(`warm-up login as ${login.username} at ${login.url} failed`)
  }))
}

/** CPU time (user + system) a process has used, in seconds (Linux /proc; clock ticks of 1/100 s). */
async function cpuSeconds (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** This process's open-files limit (its children inherit it): [soft, hard]. */
async function openFilesLimit (): Promise<[number, number]> {
  const limits = await readFile('/proc/self/limits', 'utf8')
  const match = /Max open files\s+(\S+)\s+(\S+)/.exec(limits)
  const value = (text: string | undefined): number => text === undefined || text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text)
  return [value(match?.[1]), value(match?.[2])]
}

async function localPortCount (): Promise<number> {
  const [low, high] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/).map(Number)
  return (high ?? 0) - (low ?? 0) + 1
}

/** RSS once the process has been quiet for `SETTLE_MS`. */
async function settledRss (pid: number): Promise<number> {
  await sleep(SETTLE_MS)
  return rssBytes(pid)
}

/** One scrypt verification of a password hashed with AUTH_FILE's parameters, timed here. */
async function scryptMs (): Promise<number> {
  const hash = await hashPassword('scale-bench')
  const started = performance.now()
  await verifyPassword('scale-bench', hash)
  return performance.now() - started
}

/** Broker log lines at warn or above, counted by message. */
function warnings (logs: LogLine[]): string[] {
  const counts = new Map<string, number>()
  for (const line of logs) {
    if (typeof line.level !== 'number' || line.level < 40) continue
    const key = String(line.msg)
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([msg, n]) => `${n} × "${msg}"`)
}

/** The load process: sends a command, waits for the report that answers it. */
class Load {
  constructor (readonly process: PartProcess) {}

  async ask (command: object, answer: string, timeoutMs: number): Promise<LogLine> {
    this.process.child.stdin?.write(JSON.stringify(command) + '\n')
    return this.process.waitForLog(answer, timeoutMs)
  }

  lastProgress (): LogLine | undefined {
    return this.process.logs.findLast((l) => l.msg === 'progress')
  }
}

async function run (ctx: ScenarioContext): Promise<ScenarioResult> {
  const { cleanup, progress } = ctx
  const [softFiles, hardFiles] = await openFilesLimit()
  const ports = await localPortCount()
  const wanted = ctx.quick ? QUICK : { relays: Number(process.env.SCALE_RELAYS ?? FULL.relays), browsers: Number(process.env.SCALE_BROWSERS ?? FULL.browsers) }
  // The broker and the load process each hold one descriptor per connection; relays also need one
  // local port each towards the broker's one MQTT port.
  const browsers = Math.min(wanted.browsers, Math.max(0, softFiles - FD_MARGIN))
  const relays = Math.min(wanted.relays, Math.max(0, softFiles - FD_MARGIN - browsers), ports - 1000)
  const limited = relays < wanted.relays || browsers < wanted.browsers
  progress(`scale: ${relays} relays + ${browsers} browsers (open files ${softFiles}/${hardFiles}, ${ports} local ports)`)

  const broker = await startAedes(cleanup, { PERSISTENCE: 'level' })
  await warmUp(broker.mqttUrl, broker.wsUrl)
  const idleRss = await settledRss(broker.pid)

  const load = new Load(cleanup.add(new PartProcess('bench/scale/loadProcess.ts', {
    MQTT_URL: broker.mqttUrl,
    WS_URL: broker.wsUrl,
    RELAYS: String(relays),
    BROWSERS: String(browsers),
    RELAY_USERNAME: BENCH_USER.username,
    RELAY_PASSWORD: BENCH_USER.password,
    BROWSER_USERNAME: BROWSER_USER.username,
    BROWSER_PASSWORD: BROWSER_USER.password,
    ...LOAD_SETTINGS
  })))
  await load.process.waitForLog('load ready', 30_000)
  const ticker = setInterval(() => {
    const last = load.lastProgress()
    if (last !== undefined) progress(`scale: ${JSON.stringify({ relays: last.relays, browsers: last.browsers, loadRssMiB: last.loadRssMiB })}`)
  }, 10_000)
  try {
    const rows: Row[] = [{ step: 'broker started, one login per user, no clients', relays: 0, browsers: 0, 'broker RSS MiB': Math.round(idleRss / MiB) }]

    let cpu = await cpuSeconds(broker.pid)
    const relaysOpen = await load.ask({ cmd: 'open', kind: 'relays' }, 'relays open', 20 * 60_000)
    const relaysCpu = await cpuSeconds(broker.pid) - cpu
    const relaysRss = await settledRss(broker.pid)
    rows.push({
      step: 'relays connected (TCP, session, Will, 1 sub, retained online)',
      relays,
      browsers: 0,
      'broker RSS MiB': Math.round(relaysRss / MiB),
      'bytes / connection': relays === 0 ? '' : Math.round((relaysRss - idleRss) / relays),
      seconds: seconds(Number(relaysOpen.lastReadyAt) - Number(relaysOpen.roundStartedAt)),
      'broker CPU s': Math.round(relaysCpu * 10) / 10
    })

    cpu = await cpuSeconds(broker.pid)
    const browsersOpen = await load.ask({ cmd: 'open', kind: 'browsers' }, 'browsers open', 20 * 60_000)
    const browsersCpu = await cpuSeconds(broker.pid) - cpu
    const allRss = await settledRss(broker.pid)
    rows.push({
      step: 'browsers connected (WebSocket, 4 subs)',
      relays,
      browsers,
      'broker RSS MiB': Math.round(allRss / MiB),
      'bytes / connection': browsers === 0 ? '' : Math.round((allRss - relaysRss) / browsers),
      seconds: seconds(Number(browsersOpen.lastReadyAt) - Number(browsersOpen.roundStartedAt)),
      'broker CPU s': Math.round(browsersCpu * 10) / 10
    })

    // The restart: SIGTERM (a graceful stop, as systemd or docker would), then the same ports and data dir.
    const firstLogs = broker.process.logs
    const stopping = Date.now()
    const exitCode = await broker.process.kill('SIGTERM')
    const stopped = Date.now()
    // Marked once the old broker is gone, so that every CONNACK counted comes from the new one (a page
    // could log in again to the old broker while it is still closing its sessions).
    await load.ask({ cmd: 'mark' }, 'marked', 10_000)
    rows.push({ step: 'broker stopped (SIGTERM → exit)', relays, browsers, seconds: seconds(stopped - stopping), detail: `exit code ${String(exitCode)}` })
    const again = await restartAedes(cleanup, broker.env)
    const listeningAt = Number(again.listening.time)
    rows.push({ step: 'broker started again (exit → listening)', relays: 0, browsers: 0, seconds: seconds(listeningAt - stopped) })

    cpu = await cpuSeconds(again.pid)
    const waitMs = 20 * 60_000
    const back = await Promise.allSettled([load.process.waitForLog('relays reconnected', waitMs), load.process.waitForLog('browsers reconnected', waitMs)])
    const reconnectCpu = await cpuSeconds(again.pid) - cpu
    const after = (line: LogLine, field: string): number => seconds(Number(line[field]) - listeningAt)
    const describe = (name: string, outcome: PromiseSettledResult<LogLine>, count: number): Row => {
      if (outcome.status === 'rejected') {
        const last = load.lastProgress()
        return { step: `${name} reconnected`, detail: `not all within ${waitMs / 1000} s: ${JSON.stringify(last?.[name])}` }
      }
      const line = outcome.value
      return {
        step: `${name} reconnected (listening → last CONNACK)`,
        relays: name === 'relays' ? count : 0,
        browsers: name === 'browsers' ? count : 0,
        seconds: after(line, 'lastConnackAt'),
        detail: `first ${after(line, 'firstConnackAt')} s, p50 ${after(line, 'p50ConnackAt')} s, p90 ${after(line, 'p90ConnackAt')} s, ready ${after(line, 'lastReadyAt')} s; ` +
          `session present ${String(line.sessionPresent)}/${count}; ${String(line.attempts)} attempts, ${String(line.timeouts)} timed out, ${String(line.refusals)} refused`
      }
    }
    rows.push(describe('relays', back[0], relays))
    rows.push(describe('browsers', back[1], browsers))
    const againRss = await settledRss(again.pid)
    rows.push({ step: 'after the reconnections', relays, browsers, 'broker RSS MiB': Math.round(againRss / MiB), 'broker CPU s': Math.round(reconnectCpu * 10) / 10, detail: 'CPU from listening to all reconnected' })

    const verifyMs = await scryptMs()
    const logProblems = [...warnings(firstLogs), ...warnings(again.process.logs)]
    const notes = [
      `Embedded broker (broker/main.ts) with PERSISTENCE=level and an AUTH_FILE; clients in one separate process (bench/scale/loadProcess.ts, mqtt-packet over raw sockets), on loopback.`,
      `Relays: TCP, clean=false, client id printwire-relay-scale-p<i>, Will offline retained QoS 1, printers/p<i>/jobs QoS 1, retained online status after each CONNACK (as relay/brokerLink.ts), keepalive ${LOAD_SETTINGS.KEEPALIVE_S} s. Browsers: WebSocket /mqtt, clean session, printers/+/status, +/responses, +/errors and server/time at QoS 1.`,
      `Opening: at most ${LOAD_SETTINGS.HANDSHAKES} handshakes at a time. Reconnection: each client alone, ${LOAD_SETTINGS.RECONNECT_MIN_MS}-${LOAD_SETTINGS.RECONNECT_MAX_MS} ms after its connection closed or an attempt failed (uniform jitter; relay/brokerLink.ts uses mqtt.js's fixed 1000 ms), ${Number(LOAD_SETTINGS.CONNECT_TIMEOUT_MS) / 1000} s connect timeout like the relay's.`,
      `Bytes per connection: the broker's RSS growth after ${SETTLE_MS / 1000} s of quiet, divided by the connections added (garbage not yet collected and LevelDB's caches count too).`,
      `Reconnect times are from the restarted broker's "broker listening" log to each CONNACK; "ready" adds the SUBACK where a subscription was needed.`,
      `Limits: open files ${softFiles} soft / ${hardFiles} hard per process (the broker and the load process each need one per connection), ${ports} local ports towards one broker port.` +
        (limited ? ` Asked for ${wanted.relays} relays + ${wanted.browsers} browsers; these limits allowed ${relays} + ${browsers}.` : ''),
      `Logins: relays all log in as one user (ops) and pages as another (alice): 2 distinct users, so the broker's per-process password cache leaves about 2 scrypt verifications per restart (${Math.round(verifyMs)} ms each here), plus one for every login of a user that arrives while that user's first verification is still running (the cache is filled only when one finishes). ` +
        `With one user per venue, a restart costs one verification per venue: e.g. 1,000 venues × ${Math.round(verifyMs)} ms / 2 cores ≈ ${Math.round(1000 * verifyMs / 2 / 100) / 10} s of CPU before the last of them can log in; one user per relay connection (${relays}) ≈ ${Math.round(relays * verifyMs / 2 / 100) / 10} s.`,
      logProblems.length === 0 ? 'Broker log: no warnings or errors.' : `Broker log, warnings and errors: ${logProblems.join('; ')}.`
    ]
    if (ctx.quick) notes.push('Quick run: tiny numbers, only to show the scenario works; not results.')

    clearInterval(ticker)
    // DISCONNECTs first, so that the broker's own stop (in cleanup) publishes no Wills.
    const closed = await load.ask({ cmd: 'close' }, 'closed', 120_000).then(() => true, () => false)
    if (closed) await load.process.exitCode()
    return { name: 'scale', title: `Scale: ${relays} idle relays + ${browsers} pages on one embedded broker (level), and a restart`, rows, notes }
  } finally {
    clearInterval(ticker)
  }
}

export const scale: Scenario = { name: 'scale', run }
