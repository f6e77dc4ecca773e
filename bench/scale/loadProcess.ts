/**
 * The scale benchmark's load, in a process of its own so that the broker's process is measured alone:
 * RELAYS relay-like TCP connections and BROWSERS page-like WebSocket connections (bench/scale/rawClient.ts).
 *
 * - A relay connection is what relay/brokerLink.ts opens for one printer `p<i>`: persistent session
 *   (`clean: false`, client id `printwire-relay:<RELAY_ID>:p<i>`), a retained QoS 1 Last Will `offline` on
 *   `printers/p<i>/status`, `printers/p<i>/jobs` at QoS 1 (subscribed only when the broker kept no session,
 *   as the relay does), and after each CONNACK a retained `online` status. Then idle: PINGREQ every KEEPALIVE_S.
 * - A browser connection is what the page opens: clean session, subscribed to `printers/+/status`,
 *   `printers/+/responses`, `printers/+/errors` and `server/time`, keepalive BROWSER_KEEPALIVE_S (the page's 30 s).
 * Both reconnect by themselves after a close, RECONNECT_MIN_MS to RECONNECT_MAX_MS later (jittered).
 *
 * Commands on stdin, one JSON object a line; reports on stdout, one JSON object a line with a `msg`
 * (what harness/processes.ts's PartProcess reads):
 *   {"cmd":"open","kind":"relays"|"browsers","round":"<name>"}
 *                                              opens them, at most HANDSHAKES handshakes at a time, then logs
 *                                              "relays <name>" / "browsers <name>" once every one is subscribed
 *                                              (relays: and its `online` status acknowledged); the round's
 *                                              name is "open" when not given.
 *   {"cmd":"mark","round":"<name>"}            logs "marked <name>"; from then on, "relays <name>" /
 *                                              "browsers <name>" once every opened connection of that kind
 *                                              has been ready again after the mark, with when its CONNACKs
 *                                              came (epoch ms).
 *   {"cmd":"end","kind":"relays"|"browsers"}   DISCONNECTs that kind for good (so no Will fires), logs "<kind> ended".
 *   {"cmd":"close"}                            ends both kinds, logs "closed", exits.
 * "progress" every PROGRESS_MS while anything changes, with both kinds' state. Times are `Date.now()`: the
 * broker's pino logs use the same clock, so the scenario can subtract its "broker listening" time.
 */
import readline from 'node:readline'
import { z } from 'zod'
import { anyPrinterTopic, jobsTopic, relayClientId, SERVER_TIME_TOPIC, statusTopic, type PrinterStatusMessage } from '../../protocol/index.ts'
import { loadConfig, nonNegativeIntSchema, positiveIntSchema } from '../../runtime/config.ts'
import { configOrExit } from '../../runtime/lifecycle.ts'
import { RawClient, type RawClientOptions } from './rawClient.ts'

const loadConfigSchema = z.object({
  MQTT_URL: z.string().regex(/^mqtt:\/\//, 'must be an mqtt:// URL'),
  WS_URL: z.string().regex(/^ws:\/\//, 'must be a ws:// URL'),
  RELAYS: nonNegativeIntSchema.default(0),
  BROWSERS: nonNegativeIntSchema.default(0),
  RELAY_ID: z.string().regex(/^[A-Za-z0-9_-]+$/).default('scale'),
  RELAY_USERNAME: z.string().min(1),
  RELAY_PASSWORD: z.string().min(1),
  BROWSER_USERNAME: z.string().min(1),
  BROWSER_PASSWORD: z.string().min(1),
  TOPIC_PREFIX: z.string().min(1).default('printers'),
  /** Connections between their TCP connect and their SUBACK at once, while opening. */
  HANDSHAKES: positiveIntSchema.default(500),
  KEEPALIVE_S: positiveIntSchema.default(60),
  BROWSER_KEEPALIVE_S: positiveIntSchema.default(30),
  RECONNECT_MIN_MS: nonNegativeIntSchema.default(200),
  RECONNECT_MAX_MS: positiveIntSchema.default(2000),
  /** The relay's mqtt.js `connectTimeout`. */
  CONNECT_TIMEOUT_MS: positiveIntSchema.default(10_000),
  PROGRESS_MS: positiveIntSchema.default(2000)
})
type LoadConfig = Readonly<z.infer<typeof loadConfigSchema>>

const config: LoadConfig = configOrExit(() => loadConfig('scale load', loadConfigSchema, process.env))

function report (msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ msg, ...fields, time: Date.now() }) + '\n')
}

type GroupName = 'relays' | 'browsers'

/** What one kind of connection has done since the last mark (or since it was opened). */
interface Round {
  startedAt: number
  /** Per client: its first CONNACK and first ready time in this round, 0 when not yet. */
  connackAt: Float64Array
  readyAt: Float64Array
  announced: Uint8Array
  connacked: number
  ready: number
  announcedCount: number
  sessionPresent: number
  reported: boolean
  /** Client counters at the round's start, to report attempts, timeouts and refusals within it. */
  base: { attempts: number, timeouts: number, refusals: number }
}

/** N connections of one kind, with what they did in the current round. */
class ClientGroup {
  readonly clients: RawClient[]
  private round: Round
  private roundName = 'open'
  /** Whether it was opened (and not ended): a round of a kind never opened waits for nothing. */
  private opened = false
  /** Released when a client's first handshake ends (ready or closed): bounds concurrent handshakes while opening. */
  private readonly releases: Array<(() => void) | undefined>
  private changed = false

  constructor (readonly name: GroupName, count: number, options: (i: number) => Omit<RawClientOptions, 'events'>, private readonly announce: ((client: RawClient, i: number) => Promise<void>) | undefined) {
    this.releases = new Array<(() => void) | undefined>(count)
    this.clients = Array.from({ length: count }, (_, i) => new RawClient({
      ...options(i),
      events: {
        onConnack: (_client, sessionPresent, at) => this.onConnack(i, sessionPresent, at),
        onReady: (client, _sessionPresent, at) => this.onReady(client, i, at),
        onClose: () => { this.changed = true; this.release(i) }
      }
    }))
    this.round = this.newRound()
  }

  /** Opens every connection, at most `handshakes` at a time; "<kind> <round>" follows when all are ready. */
  async open (handshakes: number, round: string): Promise<void> {
    this.roundName = round
    this.round = this.newRound()
    this.opened = true
    let next = 0
    await new Promise<void>((resolve) => {
      let inFlight = 0
      const launch = (): void => {
        while (inFlight < handshakes && next < this.clients.length) {
          const i = next++
          inFlight++
          this.releases[i] = () => { inFlight--; launch() }
          ;(this.clients[i] as RawClient).start()
        }
        if (next === this.clients.length && inFlight === 0) resolve()
      }
      launch()
    })
    this.check()
  }

  /** Starts a round: "<kind> <round>" follows once every connection has been ready again after now. */
  mark (round: string): void {
    this.roundName = round
    this.round = this.newRound()
    if (this.opened) this.check()
  }

  async close (): Promise<void> {
    this.opened = false
    await Promise.all(this.clients.map((c) => c.end()))
  }

  /** Whether anything happened since the last call. */
  takeChanged (): boolean {
    const changed = this.changed
    this.changed = false
    return changed
  }

  /** The current state, for "progress" lines. */
  progress (): Record<string, number> {
    return {
      total: this.clients.length,
      connected: this.clients.reduce((n, c) => n + (c.connected ? 1 : 0), 0),
      roundConnacks: this.round.connacked,
      roundReady: this.round.ready,
      roundAnnounced: this.round.announcedCount,
      roundSessionPresent: this.round.sessionPresent,
      ...this.counters(this.round.base)
    }
  }

  private newRound (): Round {
    const n = this.clients.length
    return {
      startedAt: Date.now(),
      connackAt: new Float64Array(n),
      readyAt: new Float64Array(n),
      announced: new Uint8Array(n),
      connacked: 0,
      ready: 0,
      announcedCount: 0,
      sessionPresent: 0,
      reported: false,
      base: this.counters({ attempts: 0, timeouts: 0, refusals: 0 })
    }
  }

  private counters (base: Round['base']): Round['base'] & { refusedSubscriptions: number, received: number } {
    let attempts = 0; let timeouts = 0; let refusals = 0; let refusedSubscriptions = 0; let received = 0
    for (const c of this.clients) {
      attempts += c.attempts; timeouts += c.timeouts; refusals += c.refusals; refusedSubscriptions += c.refusedSubscriptions; received += c.received
    }
    return { attempts: attempts - base.attempts, timeouts: timeouts - base.timeouts, refusals: refusals - base.refusals, refusedSubscriptions, received }
  }

  private onConnack (i: number, sessionPresent: boolean, at: number): void {
    this.changed = true
    const round = this.round
    if (round.connackAt[i] !== 0) return
    round.connackAt[i] = at
    round.connacked++
    if (sessionPresent) round.sessionPresent++
  }

  private onReady (client: RawClient, i: number, at: number): void {
    this.changed = true
    this.release(i)
    const round = this.round
    if (round.readyAt[i] === 0) {
      round.readyAt[i] = at
      round.ready++
    }
    if (this.announce === undefined) return this.check()
    this.announce(client, i).then(() => {
      if (this.round !== round || round.announced[i] === 1) return
      round.announced[i] = 1
      round.announcedCount++
      this.check()
    }, () => {}) // the connection ended first: its next CONNACK announces again
  }

  private release (i: number): void {
    const release = this.releases[i]
    this.releases[i] = undefined
    release?.()
  }

  private check (): void {
    const round = this.round
    const n = this.clients.length
    const done = round.ready === n && (this.announce === undefined || round.announcedCount === n)
    if (round.reported || !done) return
    round.reported = true
    const connacks = [...round.connackAt].sort((a, b) => a - b)
    const at = (p: number): number => connacks[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] ?? 0
    report(`${this.name} ${this.roundName}`, {
      count: n,
      sessionPresent: round.sessionPresent,
      roundStartedAt: round.startedAt,
      firstConnackAt: connacks[0] ?? round.startedAt,
      p50ConnackAt: at(0.5),
      p90ConnackAt: at(0.9),
      lastConnackAt: connacks.at(-1) ?? round.startedAt,
      lastReadyAt: round.readyAt.reduce((a, b) => Math.max(a, b), round.startedAt),
      ...this.counters(round.base)
    })
  }
}

const { TOPIC_PREFIX: prefix } = config
const reconnectDelayMs = [config.RECONNECT_MIN_MS, config.RECONNECT_MAX_MS] as const

const relays = new ClientGroup('relays', config.RELAYS, (i) => {
  const printerId = `p${i + 1}`
  const will: PrinterStatusMessage = { printerId, state: 'offline', detail: 'relay disconnected', relayId: config.RELAY_ID, at: new Date().toISOString() }
  return {
    url: config.MQTT_URL,
    clientId: relayClientId(config.RELAY_ID, printerId),
    clean: false,
    keepaliveS: config.KEEPALIVE_S,
    username: config.RELAY_USERNAME,
    password: config.RELAY_PASSWORD,
    will: { topic: statusTopic(prefix, printerId), payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true },
    subscriptions: [jobsTopic(prefix, printerId)],
    autoReconnect: true,
    reconnectDelayMs,
    connectTimeoutMs: config.CONNECT_TIMEOUT_MS
  }
}, (client, i) => {
  // As relay/brokerLink.ts does after each CONNACK (and SUBACK): a retained `online`.
  const printerId = `p${i + 1}`
  const online: PrinterStatusMessage = { printerId, state: 'online', relayId: config.RELAY_ID, at: new Date().toISOString() }
  return client.publish(statusTopic(prefix, printerId), Buffer.from(JSON.stringify(online)), true)
})

const browsers = new ClientGroup('browsers', config.BROWSERS, (i) => ({
  url: config.WS_URL,
  clientId: `scale-page-${process.pid}-${i + 1}`,
  clean: true,
  keepaliveS: config.BROWSER_KEEPALIVE_S,
  username: config.BROWSER_USERNAME,
  password: config.BROWSER_PASSWORD,
  subscriptions: [anyPrinterTopic(prefix, 'status'), anyPrinterTopic(prefix, 'responses'), anyPrinterTopic(prefix, 'errors'), SERVER_TIME_TOPIC],
  autoReconnect: true,
  reconnectDelayMs,
  connectTimeoutMs: config.CONNECT_TIMEOUT_MS
}), undefined)

const groups: Record<GroupName, ClientGroup> = { relays, browsers }

const progressTimer = setInterval(() => {
  // Both flags taken, not `||`'s short cut: each must be cleared.
  const changed = [relays.takeChanged(), browsers.takeChanged()]
  if (!changed.includes(true)) return
  report('progress', { relays: relays.progress(), browsers: browsers.progress(), loadRssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20) })
}, config.PROGRESS_MS)

async function command (line: string): Promise<void> {
  let parsed: { cmd?: unknown, kind?: unknown, round?: unknown }
  try { parsed = JSON.parse(line) as typeof parsed } catch { return report('bad command', { line }) }
  if (parsed.cmd === 'open' && (parsed.kind === 'relays' || parsed.kind === 'browsers')) {
    await groups[parsed.kind].open(config.HANDSHAKES, typeof parsed.round === 'string' ? parsed.round : 'open')
  } else if (parsed.cmd === 'mark' && typeof parsed.round === 'string') {
    relays.mark(parsed.round)
    browsers.mark(parsed.round)
    report(`marked ${parsed.round}`)
  } else if (parsed.cmd === 'end' && (parsed.kind === 'relays' || parsed.kind === 'browsers')) {
    await groups[parsed.kind].close()
    report(`${parsed.kind} ended`)
  } else if (parsed.cmd === 'close') {
    clearInterval(progressTimer)
    await Promise.all([relays.close(), browsers.close()])
    report('closed')
    process.exit(0)
  } else {
    report('bad command', { line })
  }
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  command(line).catch((error: unknown) => report('command failed', { line, error: String(error) }))
})
report('load ready', { relays: config.RELAYS, browsers: config.BROWSERS })
