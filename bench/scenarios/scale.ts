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
import { PartProcess, type LogLine } from '../../harness/processes.ts'
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
/**
 * The clients' settings. 100 handshakes at a time while opening: the broker takes about 50 new
 * connections a second at 10,000, so 500 would wait longer than a 10 s connect timeout.
 * Retries and the connect timeout are the relay's (relay/brokerLink.ts: 30 s, retry after 1-3 s); with the
 * 10 s and 0.2-2 s it had before, 10,000 relays plus 1,000 pages never all got back after a restart.
 * SCALE_CONNECT_TIMEOUT_MS overrides the timeout, to see how patient clients have to be.
 */
const LOAD_SETTINGS = {
  HANDSHAKES: '100',
  KEEPALIVE_S: '60',
  RECONNECT_MIN_MS: '1000',
  RECONNECT_MAX_MS: '3000',
  CONNECT_TIMEOUT_MS: process.env.SCALE_CONNECT_TIMEOUT_MS ?? '30000'
}
const BROWSER_USER = { username: 'alice', password: PASSWORDS.alice }

const MiB = 2 ** 20
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const seconds = (ms: number): number => Math.round(ms / 10) / 100

/** Node options for every broker process of the scenario, to profile it: e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`. */
const BROKER_NODE_ARGS = (process.env.SCALE_BROKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')

/** Starts the embedded broker again with a stopped one's environment: same ports, same AUTH_FILE, same DATA_DIR. */
export async function restartAedes (cleanup: Cleanup, env: Record<string, string>, timeoutMs = 120_000): Promise<{ process: PartProcess, pid: number, listening: LogLine }> {
  const broker = cleanup.add(new PartProcess('broker/main.ts', { ...env, LOG_LEVEL: 'info' }, BROKER_NODE_ARGS))
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

/** The most resident memory a process has had (VmHWM), in bytes. */
async function peakRssBytes (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024
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

/** Broker log lines at warn or above, counted by message (and error message, when there is one). */
function warnings (logs: LogLine[]): string[] {
  const counts = new Map<string, number>()
  for (const line of logs) {
    if (typeof line.level !== 'number' || line.level < 40) continue
    const err = (line.err as { message?: unknown } | undefined)?.message
    const key = err === undefined ? String(line.msg) : `${String(line.msg)}: ${String(err)}`
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

interface RunningBroker { process: PartProcess, pid: number }

/**
 * SIGTERM (a graceful stop, as systemd or docker send), the same broker again on the same ports and data
 * dir, and the load's report of each kind's reconnection (or where it stood when `waitMs` ran out).
 */
async function restart (cleanup: Cleanup, load: Load, broker: RunningBroker, env: Record<string, string>, round: string, kinds: Array<{ name: 'relays' | 'browsers', count: number }>, waitMs: number): Promise<{ broker: RunningBroker, rows: Row[], logs: LogLine[] }> {
  const stopping = Date.now()
  const exitCode = await broker.process.kill('SIGTERM')
  const stopped = Date.now()
  // Marked once the old broker is gone, so that every CONNACK counted comes from the new one (a page
  // could log in again to the old broker while it is still closing its sessions).
  await load.ask({ cmd: 'mark', round }, `marked ${round}`, 10_000)
  const again = await restartAedes(cleanup, env)
  const listeningAt = Number(again.listening.time)
  const counts = Object.fromEntries(kinds.map((k) => [k.name, k.count]))
  const rows: Row[] = [
    { step: `${round}: broker stopped (SIGTERM → exit)`, ...counts, seconds: seconds(stopped - stopping), detail: `exit code ${String(exitCode)}` },
    { step: `${round}: broker started again (exit → listening)`, seconds: seconds(listeningAt - stopped) }
  ]
  const cpu = await cpuSeconds(again.pid)
  const outcomes = await Promise.allSettled(kinds.map((k) => load.process.waitForLog(`${k.name} ${round}`, waitMs)))
  const reconnectCpu = await cpuSeconds(again.pid) - cpu
  const peakRss = await peakRssBytes(again.pid)
  const after = (line: LogLine, field: string): number => seconds(Number(line[field]) - listeningAt)
  kinds.forEach((kind, i) => {
    const outcome = outcomes[i] as PromiseSettledResult<LogLine>
    if (outcome.status === 'rejected') {
      const state = load.lastProgress()?.[kind.name] as Record<string, number> | undefined
      rows.push({
        step: `${round}: ${kind.name} NOT all back`,
        [kind.name]: kind.count,
        seconds: `> ${waitMs / 1000}`,
        detail: `after ${waitMs / 1000} s: ${state?.connected ?? '?'} connected, ${state?.roundConnacks ?? '?'} had a CONNACK; ${state?.attempts ?? '?'} attempts, ${state?.timeouts ?? '?'} timed out, ${state?.refusals ?? '?'} refused`
      })
      return
    }
    const line = outcome.value
    rows.push({
      step: `${round}: ${kind.name} back (listening → last CONNACK)`,
      [kind.name]: kind.count,
      seconds: after(line, 'lastConnackAt'),
      detail: `first ${after(line, 'firstConnackAt')} s, p50 ${after(line, 'p50ConnackAt')} s, p90 ${after(line, 'p90ConnackAt')} s, all ready ${after(line, 'lastReadyAt')} s; ` +
        `session present ${String(line.sessionPresent)}/${kind.count}; ${String(line.attempts)} attempts, ${String(line.timeouts)} timed out, ${String(line.refusals)} refused`
    })
  })
  const rss = await settledRss(again.pid)
  rows.push({
    step: `${round}: after the reconnections`,
    ...counts,
    'broker RSS MiB': Math.round(rss / MiB),
    'broker CPU s': Math.round(reconnectCpu * 10) / 10,
    detail: `CPU from listening to the end of the wait; peak RSS ${Math.round(peakRss / MiB)} MiB`
  })
  return { broker: { process: again.process, pid: again.pid }, rows, logs: again.process.logs }
}

async function run (ctx: ScenarioContext): Promise<ScenarioResult> {
  const { cleanup, progress } = ctx
  const [softFiles, hardFiles] = await openFilesLimit()
  const ports = await localPortCount()
  const wanted = ctx.quick ? QUICK : { relays: Number(process.env.SCALE_RELAYS ?? FULL.relays), browsers: Number(process.env.SCALE_BROWSERS ?? FULL.browsers) }
  const waitMs = ctx.quick ? 120_000 : Number(process.env.SCALE_RECONNECT_WAIT_S ?? 600) * 1000
  // The broker and the load process each hold one descriptor per connection; relays also need one
  // local port each towards the broker's one MQTT port.
  const browsers = Math.min(wanted.browsers, Math.max(0, softFiles - FD_MARGIN))
  const relays = Math.min(wanted.relays, Math.max(0, softFiles - FD_MARGIN - browsers), ports - 1000)
  const limited = relays < wanted.relays || browsers < wanted.browsers
  progress(`scale: ${relays} relays + ${browsers} browsers (open files ${softFiles}/${hardFiles}, ${ports} local ports)`)
  // Timed before anything runs: later, the broker and the load would share the cores with it.
  const verifyMs = await scryptMs()

  const first = await startAedes(cleanup, { PERSISTENCE: 'level' }, BROKER_NODE_ARGS)
  await warmUp(first.mqttUrl, first.wsUrl)
  const idleRss = await settledRss(first.pid)
  let broker: RunningBroker = { process: first.process, pid: first.pid }
  const brokerLogs: LogLine[][] = [first.process.logs]

  const load = new Load(cleanup.add(new PartProcess('bench/scale/loadProcess.ts', {
    MQTT_URL: first.mqttUrl,
    WS_URL: first.wsUrl,
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

    /**
     * Opens the `kind` connections and adds a row: the broker's memory (per connection when `rssBefore` is
     * given), the time and the broker's CPU. `round` names a later opening of the same connections.
     */
    const open = async (kind: 'relays' | 'browsers', step: string, count: number, rssBefore?: number, round?: string): Promise<number> => {
      const cpu = await cpuSeconds(broker.pid)
      const opened = await load.ask({ cmd: 'open', kind, ...(round === undefined ? {} : { round }) }, round === undefined ? `${kind} open` : `${kind} ${round}`, 30 * 60_000)
      const usedCpu = await cpuSeconds(broker.pid) - cpu
      const rss = await settledRss(broker.pid)
      const took = (Number(opened.lastReadyAt) - Number(opened.roundStartedAt)) / 1000
      rows.push({
        step,
        relays,
        browsers: kind === 'relays' ? 0 : browsers,
        'broker RSS MiB': Math.round(rss / MiB),
        ...(rssBefore === undefined ? {} : { 'bytes / connection': count === 0 ? '' : Math.round((rss - rssBefore) / count) }),
        seconds: Math.round(took * 100) / 100,
        'broker CPU s': Math.round(usedCpu * 10) / 10,
        detail: `${Math.round(count / took)} connections/s; ${String(opened.timeouts)} attempts timed out`
      })
      return rss
    }
    const relaysRss = await open('relays', 'relays connected (TCP, session, Will, 1 sub, retained online)', relays, idleRss)
    await open('browsers', 'browsers connected (WebSocket, 4 subs)', browsers, relaysRss)

    // Relays alone first: what a restart costs when no page is connected. The pages leave with a
    // DISCONNECT (no Will), and come back once the relays are all back.
    await load.ask({ cmd: 'end', kind: 'browsers' }, 'browsers ended', 120_000)
    const alone = await restart(cleanup, load, broker, first.env, 'restart 1', [{ name: 'relays', count: relays }], waitMs)
    broker = alone.broker
    brokerLogs.push(alone.logs)
    rows.push(...alone.rows)
    await open('browsers', 'browsers connected again', browsers, undefined, 'reopened')

    const both = await restart(cleanup, load, broker, first.env, 'restart 2', [{ name: 'relays', count: relays }, { name: 'browsers', count: browsers }], waitMs)
    broker = both.broker
    brokerLogs.push(both.logs)
    rows.push(...both.rows)

    const logProblems = brokerLogs.map((logs, i) => `broker process ${i + 1}: ${warnings(logs).join('; ') || 'none'}`)
    const notes = [
      `Embedded broker (broker/main.ts) with PERSISTENCE=level and an AUTH_FILE; clients in one separate process (bench/scale/loadProcess.ts, mqtt-packet over raw sockets), on loopback.`,
      `Relays: TCP, clean=false, client id printwire-relay:scale:p<i>, Will offline retained QoS 1, printers/p<i>/jobs QoS 1, retained online status after each CONNACK (as relay/brokerLink.ts), keepalive ${LOAD_SETTINGS.KEEPALIVE_S} s. Browsers: WebSocket /mqtt, clean session, printers/+/status, +/responses, +/errors and server/time at QoS 1, keepalive 30 s (as the page).`,
      `Opening: at most ${LOAD_SETTINGS.HANDSHAKES} handshakes at a time. Reconnection: each client alone, ${LOAD_SETTINGS.RECONNECT_MIN_MS}-${LOAD_SETTINGS.RECONNECT_MAX_MS} ms after its connection closed or an attempt failed (uniform jitter, as the relay: 1-3 s), with a ${Number(LOAD_SETTINGS.CONNECT_TIMEOUT_MS) / 1000} s connect timeout (the relay's is 30 s; the page's 10 s).`,
      `Bytes per connection: the broker's RSS growth after ${SETTLE_MS / 1000} s of quiet, divided by the connections added (garbage not yet collected and LevelDB's caches count too).`,
      `Restart 1: relays only (the browsers left first with a DISCONNECT, and connected again after it); restart 2: relays and browsers. Times are from the restarted broker's "broker listening" log to each CONNACK; "all ready" adds the SUBACK where a subscription was needed. The wait is capped at ${waitMs / 1000} s.`,
      `Limits: open files ${softFiles} soft / ${hardFiles} hard per process (the broker and the load process each need one per connection), ${ports} local ports towards one broker port.` +
        (limited ? ` Asked for ${wanted.relays} relays + ${wanted.browsers} browsers; these limits allowed ${relays} + ${browsers}.` : ''),
      `Logins: relays all log in as one user (ops) and pages as another (alice): 2 distinct users, so the broker's per-process password cache (identical log-ins arriving together share one check) leaves about 2 scrypt verifications per restart (${Math.round(verifyMs)} ms each here). ` +
        `With one user per venue, a restart costs one verification per venue: e.g. 1,000 venues × ${Math.round(verifyMs)} ms / 2 cores ≈ ${Math.round(1000 * verifyMs / 2 / 100) / 10} s of CPU before the last of them can log in; one user per relay connection (${relays}) ≈ ${Math.round(relays * verifyMs / 2 / 100) / 10} s.`,
      `Broker warnings and errors (by message): ${logProblems.join(' | ')}.`
    ]
    if (ctx.quick) notes.push('Quick run: tiny numbers, only to show the scenario works; not results.')

    clearInterval(ticker)
    // DISCONNECTs first, so that the broker's own stop (in cleanup) publishes no Wills.
    const closed = await load.ask({ cmd: 'close' }, 'closed', 120_000).then(() => true, () => false)
    if (closed) await load.process.exitCode()
    return { name: 'scale', title: `Scale: ${relays} idle relays + ${browsers} pages on one embedded broker (level), and restarts`, rows, notes }
  } finally {
    clearInterval(ticker)
  }
}

export const scale: Scenario = { name: 'scale', run }
