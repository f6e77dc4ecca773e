/**
 * The dashboard (SPEC "Operations", `/dashboard`): every printer the user may see, live from the client library
 * (`pw.printers()`, `pw.on('printers')`), and the broker's job history (`GET /api/jobs`: jobs from every client,
 * kept across reloads), with filters, cancel, a test print, and "Forget" for an admin. One MQTT connection as
 * the print page's (web/page/connection.ts), logged in the same way (web/page/login.ts, a `#token=` address);
 * the HTTP API is called with the same credentials (dashboardApi.ts).
 *
 * Live: the history is read again shortly after each result or error on the user's printers (`<prefix>/+/responses`,
 * `<prefix>/+/errors`), and every POLL_MS besides (jobs still waiting show no message). While the connection is
 * down everything is marked stale (`data-stale="true"` on the page and each section, and a banner).
 */
import type { PrinterInfo } from '../../client/printerDirectory.ts'
import type { PrintwireClient } from '../../client/printwireClient.ts'
import { isPrintwireError } from '../../protocol/errorCodes.ts'
import { MAX_JOB_HISTORY_LIST, type JobRecord } from '../../protocol/jobHistory.ts'
import type { PageConfig } from '../../protocol/pageConfig.ts'
import { anyPrinterTopic, parsePrinterTopic, statusTopic } from '../../protocol/topics.ts'
import { brokerUrlFor, PageConnection, type ConnectionState } from '../page/connection.ts'
import { LoginForm, loginRefusalText, storeCredentials, storedCredentials, type Credentials } from '../page/login.ts'
import { takeFragmentToken, TOKEN_USER_NAME } from '../page/pageToken.ts'
import { ServerTimeView } from '../page/serverTime.ts'
import { DashboardApi, type JobFilter, type Me } from './dashboardApi.ts'
import type { DashboardElements } from './dashboardElements.ts'
import { JobFilters } from './jobFilters.ts'
import { JobTable } from './jobTable.ts'
import { PrinterTable, type PrinterError } from './printerTable.ts'
import { testTicket } from './testTicket.ts'
import { localTime, startOfToday } from './timeText.ts'

/** How often the history is read again while connected, results or not. */
const POLL_MS = 5000
/** Results and errors coming together are read in one go. */
const REFRESH_DEBOUNCE_MS = 250
/** The latest jobs read for each printer's last error. */
const LATEST_FOR_ERRORS = 200
/** Rows of the job history shown. */
const JOBS_SHOWN = 200
/** How long a test print waits for its result before it says so (the job may still print). */
const TEST_PRINT_TIMEOUT_MS = 60_000

export interface DashboardDeps {
  ui: DashboardElements
  config: PageConfig
  location: Pick<Location, 'protocol' | 'host' | 'reload' | 'hash' | 'pathname' | 'search'>
  history: Pick<History, 'replaceState' | 'state'>
  storage: Storage
}

export class DashboardPage {
  private readonly deps: DashboardDeps
  private readonly login: LoginForm
  private readonly clock: ServerTimeView
  private readonly printerTable: PrinterTable
  private readonly jobTable: JobTable
  private readonly filters: JobFilters
  private connection: PageConnection | undefined
  private api = new DashboardApi(undefined)
  private me: Me | undefined
  private loggedIn = false
  private connected = false
  private stale = true
  private disconnectedAt: number | undefined = Date.now()
  private printers: PrinterInfo[] = []
  private readonly liveErrors = new Map<string, PrinterError>()
  private historyErrors = new Map<string, PrinterError>()
  private printedToday: Map<string, number> | undefined
  private printedTodayCapped = false
  private jobPrinters = new Set<string>()
  /** Clients whose result/error topics are subscribed (one subscription each; mqtt.js renews it on reconnect). */
  private readonly watched = new WeakSet<PrintwireClient>()
  private refreshTimer: ReturnType<typeof setTimeout> | undefined
  private pollTimer: ReturnType<typeof setInterval> | undefined
  private reading: Promise<void> | undefined
  private readAgain = false
  private readonly decoder = new TextDecoder()

  constructor (deps: DashboardDeps) {
    this.deps = deps
    const { ui } = deps
    this.login = new LoginForm(ui.login, { onLogin: (credentials) => this.connect(credentials), onLogout: () => this.logout() })
    this.clock = new ServerTimeView(ui.serverTime)
    this.printerTable = new PrinterTable({ body: ui.printers.body, empty: ui.printers.empty, actions: { testPrint: (id) => this.testPrint(id), forget: (id) => this.forget(id) } })
    this.filters = new JobFilters({ ui: ui.jobs.filters, location: deps.location, history: deps.history })
    this.jobTable = new JobTable({ body: ui.jobs.body, empty: ui.jobs.empty, actions: { cancel: (job) => this.cancel(job) } })
  }

  start (): void {
    this.filters.start(() => this.scheduleRefresh(0))
    this.markStale(true)
    this.renderPrinters()
    // "since" and "ago" move on.
    setInterval(() => this.renderPrinters(), 15_000)
    const token = takeFragmentToken(this.deps.location, this.deps.history)
    this.connect(token === undefined ? storedCredentials(this.deps.storage) : { username: TOKEN_USER_NAME, password: token, token: true })
  }

  private connect (credentials: Credentials | undefined): void {
    const { config, location } = this.deps
    this.connection?.stop()
    this.loggedIn = false
    this.api = new DashboardApi(credentials)
    this.me = undefined
    const next: PageConnection = new PageConnection({
      url: brokerUrlFor(location, config.mqttPath),
      topicPrefix: config.topicPrefix,
      broker: config.broker ?? 'printwire',
      ...(credentials === undefined ? {} : { username: credentials.username, password: credentials.password }),
      onState: (state) => { if (this.connection === next) this.connectionChanged(state, credentials) },
      onPrinters: (list) => { if (this.connection === next) this.printersChanged(list) },
      onServerTime: (text) => this.clock.show(text),
      onLoginRefused: () => { if (this.connection === next) this.loginRefused(credentials) }
    })
    this.connection = next
    next.start()
  }

  private connectionChanged (state: ConnectionState, credentials: Credentials | undefined): void {
    const { connection } = this.deps.ui
    connection.dataset.state = state.phase
    connection.textContent = state.text
    const connected = state.phase === 'connected'
    if (connected && !this.loggedIn) {
      this.loggedIn = true
      storeCredentials(this.deps.storage, credentials)
      this.login.loggedIn(credentials)
      void this.readMe()
    }
    if (connected) this.watchResults()
    if (connected === this.connected) return
    this.connected = connected
    if (!connected) this.disconnectedAt = Date.now()
    this.markStale(!connected)
    clearInterval(this.pollTimer)
    if (connected) {
      this.pollTimer = setInterval(() => this.scheduleRefresh(), POLL_MS)
      this.scheduleRefresh()
    }
  }

  private loginRefused (credentials: Credentials | undefined): void {
    storeCredentials(this.deps.storage, undefined)
    this.markStale(true)
    this.login.ask(loginRefusalText(credentials))
  }

  private logout (): void {
    storeCredentials(this.deps.storage, undefined)
    this.deps.location.reload()
  }

  /** Stale: not connected, so nothing shown is known to be current. */
  private markStale (stale: boolean): void {
    const { ui } = this.deps
    this.stale = stale
    const value = stale ? 'true' : 'false'
    ui.main.dataset.stale = value
    ui.printers.section.dataset.stale = value
    ui.jobs.section.dataset.stale = value
    this.clock.markStale(stale)
    ui.staleBanner.hidden = !stale
    ui.staleBanner.textContent = this.disconnectedAt === undefined || !this.loggedIn
      ? 'Not connected yet: nothing below is current.'
      : `Not connected since ${localTime(this.disconnectedAt)}: the printers' states and the job history below are as they were then, and may be out of date.`
    this.jobTable.setStale(stale)
    this.renderPrinters()
  }

  private async readMe (): Promise<void> {
    try {
      this.me = await this.api.me()
    } catch {
      this.me = undefined
    }
    this.renderPrinters()
  }

  /** Results and errors of the user's printers: the history is read again; errors are kept as each printer's last. */
  private watchResults (): void {
    const client = this.connection?.printer
    if (client === undefined || this.watched.has(client)) return
    this.watched.add(client)
    const prefix = this.deps.config.topicPrefix
    client.mqtt.on('message', (topic, payload) => {
      const parsed = parsePrinterTopic(prefix, topic)
      if (parsed === null || (parsed.kind !== 'responses' && parsed.kind !== 'errors')) return
      if (parsed.kind === 'errors') this.errorSeen(parsed.printerId, this.decoder.decode(payload))
      this.scheduleRefresh()
    })
    client.mqtt.subscribe([anyPrinterTopic(prefix, 'responses'), anyPrinterTopic(prefix, 'errors')], { qos: 1 }, () => {})
  }

  private errorSeen (printerId: string, text: string): void {
    let value: unknown
    try { value = JSON.parse(text) } catch { return }
    const { code, message, at } = (value ?? {}) as Record<string, unknown>
    if (typeof code !== 'string' || typeof message !== 'string') return
    this.liveErrors.set(printerId, { code, message, at: typeof at === 'string' ? at : new Date().toISOString() })
    this.renderPrinters()
  }

  private printersChanged (list: PrinterInfo[]): void {
    this.printers = list
    this.renderPrinters()
    this.offerPrinters()
  }

  private offerPrinters (): void {
    this.filters.offerPrinters([...this.printers.map((p) => p.printerId), ...this.jobPrinters])
  }

  private renderPrinters (): void {
    const lastErrors = new Map(this.historyErrors)
    for (const [id, error] of this.liveErrors) {
      const known = lastErrors.get(id)
      if (known === undefined || Date.parse(error.at) >= Date.parse(known.at)) lastErrors.set(id, error)
    }
    this.printerTable.render({
      printers: this.printers,
      lastErrors,
      printedToday: this.printedToday,
      printedTodayCapped: this.printedTodayCapped,
      mayForget: this.me !== undefined && (this.me.role === 'admin' || this.me.via === 'anonymous'),
      stale: this.stale
    })
    const { summary } = this.deps.ui.printers
    const online = this.printers.filter((p) => p.state === 'online').length
    summary.textContent = this.printers.length === 0 ? '' : `${online} of ${this.printers.length} online${this.stale ? ' when last connected' : ''}`
  }

  // ---- job history ----

  private scheduleRefresh (delayMs = REFRESH_DEBOUNCE_MS): void {
    clearTimeout(this.refreshTimer)
    this.refreshTimer = setTimeout(() => { void this.refresh() }, delayMs)
  }

  /** Reads the history (one read at a time; a request during one reads again after it). */
  private async refresh (): Promise<void> {
    if (this.reading !== undefined) {
      this.readAgain = true
      return
    }
    this.reading = this.read()
    try {
      await this.reading
    } finally {
      this.reading = undefined
      if (this.readAgain) {
        this.readAgain = false
        this.scheduleRefresh(0)
      }
    }
  }

  private async read (): Promise<void> {
    const { jobs } = this.deps.ui
    const filter = this.filters.current(JOBS_SHOWN)
    try {
      const [shown, today, latest] = await Promise.all([
        this.api.jobs(filter),
        this.api.jobs({ state: 'printed', since: startOfToday(), limit: MAX_JOB_HISTORY_LIST }),
        this.api.jobs({ limit: LATEST_FOR_ERRORS })
      ])
      jobs.error.hidden = true
      this.showJobs(shown, filter)
      this.countToday(today)
      this.historyErrors = lastErrorsOf(latest)
      this.renderPrinters()
    } catch (error) {
      jobs.error.textContent = `The job history cannot be read: ${error instanceof Error ? error.message : String(error)}`
      jobs.error.hidden = false
    }
  }

  private showJobs (shown: JobRecord[], filter: JobFilter): void {
    for (const job of shown) this.jobPrinters.add(job.printerId)
    this.jobTable.render(shown)
    this.offerPrinters()
    const filtered = filter.printerId !== undefined || filter.state !== undefined || filter.since !== undefined || filter.until !== undefined
    this.deps.ui.jobs.summary.textContent = `${shown.length === JOBS_SHOWN ? `The latest ${JOBS_SHOWN}` : shown.length} job${shown.length === 1 ? '' : 's'}${filtered ? ' matching the filters' : ''}`
  }

  private countToday (printed: JobRecord[]): void {
    const counts = new Map<string, number>()
    for (const job of printed) counts.set(job.printerId, (counts.get(job.printerId) ?? 0) + 1)
    this.printedToday = counts
    this.printedTodayCapped = printed.length >= MAX_JOB_HISTORY_LIST
  }

  // ---- actions ----

  private say (text: string): void {
    this.deps.ui.printers.actionResult.textContent = text
  }

  private testPrint (printerId: string): void {
    const client = this.connection?.printer
    if (client === undefined || !client.connected) {
      this.say(`Not connected: the test ticket for ${printerId} was not sent.`)
      return
    }
    const who = this.me?.user ?? ''
    this.say(`Test ticket sent to ${printerId}…`)
    client.print(printerId, testTicket(printerId, new Date(), who), {
      timeoutMs: TEST_PRINT_TIMEOUT_MS,
      onUpdate: (error) => this.say(`Test ticket for ${printerId} is waiting: ${error.code}: ${error.message}`)
    }).then(
      (result) => { this.say(`Test ticket ${result.status} on ${printerId} (${result.bytes} bytes).`); this.scheduleRefresh() },
      (error: unknown) => { this.say(`Test ticket for ${printerId} failed: ${isPrintwireError(error) ? `${error.code}: ${error.message}` : String(error)}`); this.scheduleRefresh() }
    )
  }

  /** An admin clears a printer's retained status (an empty retained message): it leaves every list until a relay announces it again. */
  private forget (printerId: string): void {
    const client = this.connection?.printer
    if (client === undefined || !client.connected) return
    const printer = this.printers.find((p) => p.printerId === printerId)
    const warning = printer?.state === 'online' ? ` It is online: its relay (${printer.relayId}) will announce it again at its next change.` : ''
    if (!window.confirm(`Forget printer ${printerId}? Its retained status is cleared, so it leaves this list for everyone.${warning}`)) return
    client.mqtt.publish(statusTopic(this.deps.config.topicPrefix, printerId), '', { qos: 1, retain: true }, (error) => {
      this.say(error === undefined || error === null ? `Forgot ${printerId}.` : `Could not forget ${printerId}: ${error.message}`)
    })
  }

  private cancel (job: JobRecord): void {
    this.jobTable.markCancelling(job.jobId, true)
    const said = this.deps.ui.jobs.actionResult
    this.api.cancel(job.jobId).then(
      () => { said.textContent = `Job ${job.jobId} cancelled: it will not print.` },
      (error: unknown) => { said.textContent = `Job ${job.jobId} was not cancelled: ${error instanceof Error ? error.message : String(error)}` }
    ).finally(() => {
      this.jobTable.markCancelling(job.jobId, false)
      this.scheduleRefresh(0)
    })
  }
}

/** The newest error of each printer among these jobs: a final error, or the latest retryable one (paper out, unreachable). */
function lastErrorsOf (jobs: JobRecord[]): Map<string, PrinterError> {
  const errors = new Map<string, PrinterError>()
  for (const job of jobs) {
    for (const error of [job.error, job.retryableErrors[job.retryableErrors.length - 1]]) {
      if (error === undefined) continue
      const known = errors.get(job.printerId)
      if (known === undefined || Date.parse(error.at) > Date.parse(known.at)) errors.set(job.printerId, error)
    }
  }
  return errors
}
