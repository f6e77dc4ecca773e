/**
 * The Printwire page: connects to the broker over MQTT/WebSockets, lists printers from their retained
 * status, publishes jobs as JSON envelopes and shows each job's result as it arrives. Bundled by the
 * broker with esbuild and served as `/app.js`.
 *
 * It subscribes to every printer's responses and errors (`printers/+/…`), not just the selected one's:
 * the log keeps following jobs sent to a printer after the user picks another, and only rows for job ids
 * this page sent are ever updated.
 */
import { SERVER_TIME_TOPIC, DEFAULT_TOPIC_PREFIX, TOPIC_PREFIX_PATTERN, anyPrinterTopic, jobsTopic, parsePrinterTopic } from '../../protocol/topics.ts'
import { brokerUrlFor, PageConnection, type ConnectionState } from './connection.ts'
import { JobLog } from './jobLog.ts'
import { checkCopies, checkTicket, jobEnvelope, newJobId } from './jobRequest.ts'
import { LoginForm, storeCredentials, storedCredentials, type Credentials } from './login.ts'
import { PrinterSelector } from './printerList.ts'

function element<T extends HTMLElement> (id: string, type: new () => T): T {
  const found = document.getElementById(id)
  if (!(found instanceof type)) throw new Error(`the page has no #${id} ${type.name}`)
  return found
}

/** `?prefix=venue/printers` when the broker uses another topic prefix; otherwise `printers`. */
function topicPrefix (search: string): string {
  const asked = new URLSearchParams(search).get('prefix')
  return asked !== null && TOPIC_PREFIX_PATTERN.test(asked) ? asked : DEFAULT_TOPIC_PREFIX
}

function start (): void {
  const ui = {
    connection: element('connection', HTMLElement),
    serverTime: element('server-time', HTMLTimeElement),
    notice: element('notice', HTMLElement),
    form: element('print-form', HTMLFormElement),
    printer: element('printer', HTMLSelectElement),
    printerHint: element('printer-hint', HTMLElement),
    ticket: element('ticket', HTMLTextAreaElement),
    ticketError: element('ticket-error', HTMLElement),
    copies: element('copies', HTMLInputElement),
    copiesError: element('copies-error', HTMLElement),
    print: element('print', HTMLButtonElement),
    printReason: element('print-reason', HTMLElement),
    logBody: element('job-log', HTMLTableElement).tBodies[0] ?? document.createElement('tbody'),
    logEmpty: element('log-empty', HTMLElement)
  }
  const login = new LoginForm({
    section: element('login', HTMLElement),
    form: element('login-form', HTMLFormElement),
    reason: element('login-reason', HTMLElement),
    user: element('login-user', HTMLInputElement),
    password: element('login-password', HTMLInputElement),
    error: element('login-error', HTMLElement),
    session: element('session', HTMLElement),
    sessionUser: element('session-user', HTMLElement),
    logout: element('logout', HTMLButtonElement)
  }, {
    onLogin: (credentials) => connect(credentials),
    onLogout: () => {
      storeCredentials(sessionStorage, undefined)
      location.reload()
    }
  })
  const prefix = topicPrefix(location.search)
  const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
  const log = new JobLog(ui.logBody, ui.logEmpty)
  const printers = new PrinterSelector(ui.printer, () => refresh())

  let connection: PageConnection | undefined

  /**
   * Connects anonymously or as a user. With access control the broker delivers only the permitted
   * printers' status (Aedes and Mosquitto both check each message), so the printer list shows exactly
   * the printers this user may use.
   */
  function connect (credentials: Credentials | undefined): void {
    connection?.stop()
    let loggedIn = false
    const next = new PageConnection({
      url: brokerUrlFor(location),
      topics: [anyPrinterTopic(prefix, 'status'), anyPrinterTopic(prefix, 'responses'), anyPrinterTopic(prefix, 'errors'), SERVER_TIME_TOPIC],
      ...(credentials === undefined ? {} : { username: credentials.username, password: credentials.password }),
      onState: (state) => {
        if (state.phase === 'connected' && !loggedIn && connection === next) {
          loggedIn = true
          storeCredentials(sessionStorage, credentials)
          login.loggedIn(credentials?.username)
        }
        showConnection(state)
      },
      onMessage: route,
      onRefused: (topic) => {
        ui.notice.textContent = `The broker refused this page's subscription to ${topic}. Check the broker's access rules for this page.`
        ui.notice.hidden = false
      },
      onLoginRefused: () => {
        if (connection !== next) return
        storeCredentials(sessionStorage, undefined)
        login.ask(credentials === undefined ? '' : 'The broker refused this user name and password.')
      }
    })
    connection = next
    next.start()
  }

  function showConnection (state: ConnectionState): void {
    ui.connection.dataset.state = state.phase
    ui.connection.textContent = state.text
    refresh()
  }

  function route (topic: string, text: string): void {
    if (topic === SERVER_TIME_TOPIC) {
      showServerTime(text)
      return
    }
    const parsed = parsePrinterTopic(prefix, topic)
    if (parsed === null) return
    if (parsed.kind === 'status') printers.handleStatus(parsed.printerId, text)
    else if (parsed.kind === 'responses' || parsed.kind === 'errors') log.handleOutcome(parsed.printerId, text)
  }

  /** Any ISO-8601 string; shown in local time, or as received when it is not a date. */
  function showServerTime (text: string): void {
    const ms = Date.parse(text)
    if (Number.isNaN(ms)) {
      ui.serverTime.removeAttribute('datetime')
      ui.serverTime.textContent = text.slice(0, 64)
      ui.serverTime.title = 'not a date the browser understands'
      return
    }
    ui.serverTime.dateTime = new Date(ms).toISOString()
    ui.serverTime.textContent = timeFormat.format(ms)
    ui.serverTime.title = text.slice(0, 64)
  }

  /** Enables Print only when a job can be sent, and says why not otherwise. */
  function refresh (): void {
    let reason = ''
    if (connection?.connected !== true) reason = 'Not connected to the broker: printing resumes when the page reconnects.'
    else if (printers.selectedId === undefined) reason = ui.printer.options.length > 1 ? 'Choose a printer first.' : 'No printer has reported yet.'
    ui.print.disabled = reason !== ''
    ui.printReason.textContent = reason
    ui.printerHint.textContent = printers.hint()
  }

  function fieldError (field: HTMLInputElement | HTMLTextAreaElement, box: HTMLElement, message: string): void {
    box.textContent = message
    box.hidden = message === ''
    if (message === '') field.removeAttribute('aria-invalid')
    else field.setAttribute('aria-invalid', 'true')
  }

  function print (): void {
    const printerId = printers.selectedId
    if (connection?.connected !== true || printerId === undefined) {
      refresh()
      return
    }
    const ticket = checkTicket(ui.ticket.value)
    fieldError(ui.ticket, ui.ticketError, ticket.ok ? '' : ticket.message)
    const copies = checkCopies(ui.copies.value)
    fieldError(ui.copies, ui.copiesError, copies.ok ? '' : copies.message)
    if (!ticket.ok) { ui.ticket.focus(); return }
    if (!copies.ok) { ui.copies.focus(); return }

    const id = newJobId()
    log.add(id, printerId, copies.value)
    connection.publish(jobsTopic(prefix, printerId), jobEnvelope(id, ticket.value, copies.value))
      .then(() => log.accepted(id), (error: unknown) => log.notSent(id, error instanceof Error ? error.message : String(error)))
  }

  ui.form.addEventListener('submit', (event) => {
    event.preventDefault()
    print()
  })
  ui.ticket.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault()
      ui.form.requestSubmit()
    }
  })
  ui.ticket.addEventListener('input', () => fieldError(ui.ticket, ui.ticketError, ''))
  ui.copies.addEventListener('input', () => fieldError(ui.copies, ui.copiesError, ''))

  refresh()
  connect(storedCredentials(sessionStorage))
}

start()
