/**
 * The print page's behaviour: one MQTT connection (anonymous, or as the user who logs in), the printer list
 * from retained status, the print form, the job log, and the server clock, under the topic prefix and job
 * limit the server gave (`/config.json`).
 *
 * Printing and correlation are the client library's (`printwire/client`, through connection.ts): each Print
 * is one `print()` whose updates, result or error land on that job's row, whichever printer is chosen since.
 */
import type { PageConfig } from '../../protocol/pageConfig.ts'
import { PrintwireError } from '../../protocol/errorCodes.ts'
import { brokerUrlFor, PageConnection, type ConnectionState } from './connection.ts'
import { JobLog } from './jobLog.ts'
import { jobData } from './jobText.ts'
import { newJobId } from './jobRequest.ts'
import { LoginForm, loginRefusalText, storeCredentials, storedCredentials, type Credentials } from './login.ts'
import { takeFragmentToken, TOKEN_USER_NAME } from './pageToken.ts'
import type { PageElements } from './pageElements.ts'
import { PrintForm } from './printForm.ts'
import { PrinterSelector } from './printerList.ts'
import { ServerTimeView } from './serverTime.ts'
import { SimulatorView } from './simulatorView.ts'

export interface PrintPageDeps {
  ui: PageElements
  config: PageConfig
  location: Pick<Location, 'protocol' | 'host' | 'reload' | 'hash' | 'pathname' | 'search'>
  /** To take a token out of the address (pageToken.ts). */
  history: Pick<History, 'replaceState' | 'state'>
  /** Where the log-in is kept: sessionStorage (login.ts). */
  storage: Storage
  /** For `npm start`'s simulated printer's tickets (simulatorView.ts). */
  fetch: typeof fetch
}

export class PrintPage {
  private readonly deps: PrintPageDeps
  private readonly login: LoginForm
  private readonly form: PrintForm
  private readonly printers: PrinterSelector
  private readonly log: JobLog
  private readonly clock: ServerTimeView
  /** Only with `npm start`'s simulated printer (`simulator` in `/config.json`). */
  private readonly printed: SimulatorView | undefined
  /** The current connection; events of one it replaced are ignored. */
  private connection: PageConnection | undefined
  private loggedIn = false

  constructor (deps: PrintPageDeps) {
    const { ui, config } = deps
    this.deps = deps
    this.login = new LoginForm(ui.login, { onLogin: (credentials) => this.connect(credentials), onLogout: () => this.logout() })
    this.form = new PrintForm({ ui: ui.printForm, maxJobBytes: config.maxJobBytes, onSubmit: () => this.print() })
    this.printers = new PrinterSelector(ui.printForm.printer, () => this.refresh())
    this.log = new JobLog(ui.logBody, ui.logEmpty)
    this.clock = new ServerTimeView(ui.serverTime)
    this.printed = config.simulator === undefined ? undefined : new SimulatorView({ ui: ui.printed, config: config.simulator, fetch: deps.fetch })
  }

  start (): void {
    this.form.start()
    this.refresh()
    // A token in the address (`#token=…`) logs in at once, instead of what this tab had.
    const token = takeFragmentToken(this.deps.location, this.deps.history)
    this.connect(token === undefined ? storedCredentials(this.deps.storage) : { username: TOKEN_USER_NAME, password: token, token: true })
  }

  /**
   * Connects anonymously or as a user. With access control the broker delivers only the permitted printers'
   * status (Aedes and Mosquitto both check each message), so the printer list shows exactly the printers this
   * user may use.
   */
  private connect (credentials: Credentials | undefined): void {
    const { config, location } = this.deps
    this.connection?.stop()
    this.loggedIn = false
    const next: PageConnection = new PageConnection({
      url: brokerUrlFor(location, config.mqttPath),
      topicPrefix: config.topicPrefix,
      broker: config.broker ?? 'printwire',
      ...(credentials === undefined ? {} : { username: credentials.username, password: credentials.password }),
      onState: (state) => { if (this.connection === next) this.connectionChanged(state, credentials) },
      onPrinters: (list) => { if (this.connection === next) this.printers.handleList(list) },
      onServerTime: (text) => this.clock.show(text),
      onLoginRefused: () => { if (this.connection === next) this.loginRefused(credentials) }
    })
    this.connection = next
    next.start()
  }

  private connectionChanged (state: ConnectionState, credentials: Credentials | undefined): void {
    const { connection } = this.deps.ui
    if (state.phase === 'connected' && !this.loggedIn) {
      this.loggedIn = true
      storeCredentials(this.deps.storage, credentials)
      this.login.loggedIn(credentials)
    }
    connection.dataset.state = state.phase
    connection.textContent = state.text
    // Not connected: the clock and the printers' states are the last ones received.
    const stale = state.phase !== 'connected'
    this.clock.markStale(stale)
    this.printers.markStale(stale)
    this.refresh()
  }

  private loginRefused (credentials: Credentials | undefined): void {
    storeCredentials(this.deps.storage, undefined)
    this.login.ask(loginRefusalText(credentials))
  }

  private logout (): void {
    storeCredentials(this.deps.storage, undefined)
    this.deps.location.reload()
  }

  /** Enables Print only when a job can be sent, and says why not otherwise. */
  private refresh (): void {
    let reason = ''
    if (this.connection?.connected !== true) reason = 'Not connected to the broker: printing resumes when the page reconnects.'
    else if (this.printers.selectedId === undefined) reason = this.printers.count > 0 ? 'Choose a printer first.' : 'No printer has reported yet.'
    this.form.show(reason, this.printers.hint())
  }

  private print (): void {
    const client = this.connection?.printer
    const printerId = this.printers.selectedId
    if (client === undefined || !client.connected || printerId === undefined) {
      this.refresh()
      return
    }
    const request = this.form.read()
    if (request === undefined) return
    const id = newJobId()
    this.log.add(id, printerId, request.copies)
    client.print(printerId, jobData(request.ticket), {
      id,
      copies: request.copies,
      onPublished: () => this.log.accepted(id),
      onUpdate: (error) => this.log.showError(id, error)
    }).then(
      (result) => {
        this.log.showResult(id, result)
        if (result.status === 'printed') void this.printed?.jobPrinted(printerId)
      },
      (error: unknown) => this.log.showError(id, error instanceof PrintwireError ? error : { code: 'ERROR', message: String(error), retryable: false })
    )
  }
}
