/**
 * The print page's behaviour: one MQTT connection (anonymous, or as the user who logs in), the printer list
 * from retained status, the print form, the job log, and the server clock, under the topic prefix and job
 * limit the server gave (`/config.json`).
 *
 * It subscribes to every printer's responses and errors (`<prefix>/+/…`), not just the selected one's: the log
 * keeps following jobs sent to a printer after the user picks another, and only rows for job ids this page
 * sent are ever updated.
 */
import type { PageConfig } from '../../protocol/pageConfig.ts'
import { SERVER_TIME_TOPIC, anyPrinterTopic, jobsTopic, parsePrinterTopic } from '../../protocol/topics.ts'
import { brokerUrlFor, PageConnection, type ConnectionState } from './connection.ts'
import { JobLog } from './jobLog.ts'
import { jobEnvelope, newJobId } from './jobRequest.ts'
import { LoginForm, storeCredentials, storedCredentials, type Credentials } from './login.ts'
import { takeFragmentToken, TOKEN_USER_NAME } from './pageToken.ts'
import { showNotice, type PageElements } from './pageElements.ts'
import { PrintForm } from './printForm.ts'
import { PrinterSelector } from './printerList.ts'
import { ServerTimeView } from './serverTime.ts'

export interface PrintPageDeps {
  ui: PageElements
  config: PageConfig
  location: Pick<Location, 'protocol' | 'host' | 'reload' | 'hash' | 'pathname' | 'search'>
  /** To take a token out of the address (pageToken.ts). */
  history: Pick<History, 'replaceState' | 'state'>
  /** Where the log-in is kept: sessionStorage (login.ts). */
  storage: Storage
}

export class PrintPage {
  private readonly deps: PrintPageDeps
  private readonly login: LoginForm
  private readonly form: PrintForm
  private readonly printers: PrinterSelector
  private readonly log: JobLog
  private readonly clock: ServerTimeView
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
      topics: this.topics(),
      ...(credentials === undefined ? {} : { username: credentials.username, password: credentials.password }),
      onState: (state) => { if (this.connection === next) this.connectionChanged(state, credentials) },
      onMessage: (topic, text) => this.route(topic, text),
      onRefused: (topic) => showNotice(this.deps.ui.notice, `The broker refused this page's subscription to ${topic}. Check the broker's access rules for this page.`),
      onLoginRefused: () => { if (this.connection === next) this.loginRefused(credentials) }
    })
    this.connection = next
    next.start()
  }

  private topics (): string[] {
    const prefix = this.deps.config.topicPrefix
    return [anyPrinterTopic(prefix, 'status'), anyPrinterTopic(prefix, 'responses'), anyPrinterTopic(prefix, 'errors'), SERVER_TIME_TOPIC]
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
    this.refresh()
  }

  private loginRefused (credentials: Credentials | undefined): void {
    storeCredentials(this.deps.storage, undefined)
    this.login.ask(credentials === undefined
      ? ''
      : credentials.token === true
        ? 'The broker refused this page\'s token: it has expired or is not valid. Open the page again from where you got it, or log in.'
        : 'The broker refused this user name and password.')
  }

  private logout (): void {
    storeCredentials(this.deps.storage, undefined)
    this.deps.location.reload()
  }

  private route (topic: string, text: string): void {
    if (topic === SERVER_TIME_TOPIC) {
      this.clock.show(text)
      return
    }
    const parsed = parsePrinterTopic(this.deps.config.topicPrefix, topic)
    if (parsed === null) return
    if (parsed.kind === 'status') this.printers.handleStatus(parsed.printerId, text)
    else if (parsed.kind === 'responses' || parsed.kind === 'errors') this.log.handleOutcome(parsed.printerId, text)
  }

  /** Enables Print only when a job can be sent, and says why not otherwise. */
  private refresh (): void {
    let reason = ''
    if (this.connection?.connected !== true) reason = 'Not connected to the broker: printing resumes when the page reconnects.'
    else if (this.printers.selectedId === undefined) reason = this.deps.ui.printForm.printer.options.length > 1 ? 'Choose a printer first.' : 'No printer has reported yet.'
    this.form.show(reason, this.printers.hint())
  }

  private print (): void {
    const { connection } = this
    const printerId = this.printers.selectedId
    if (connection?.connected !== true || printerId === undefined) {
      this.refresh()
      return
    }
    const request = this.form.read()
    if (request === undefined) return
    const id = newJobId()
    this.log.add(id, printerId, request.copies)
    connection.publish(jobsTopic(this.deps.config.topicPrefix, printerId), jobEnvelope(id, request.ticket, request.copies))
      .then(() => this.log.accepted(id), (error: unknown) => this.log.notSent(id, error instanceof Error ? error.message : String(error)))
  }
}
