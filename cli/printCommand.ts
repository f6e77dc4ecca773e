/**
 * `printwire print`: prints a file (or stdin) through the client library (client/, the one implementation of
 * correlation) and waits for the job's outcome. Errors the relay reports as retryable (the printer is
 * unreachable or out of paper: the relay keeps the job) are shown and waiting goes on; a result or a final
 * error ends it.
 *
 * With `waitForPrinterMs` it first waits, up to that long, for the broker to accept a connection and for
 * a relay to serve the printer (its retained status `online`, `unreachable` or `error`): a script that starts
 * together with its relay (docker compose) must not publish before the relay is there.
 */
import { randomUUID } from 'node:crypto'
import { connect, type PrintwireClient } from '../client/index.ts'
import { SERVED_STATES, type PrinterInfo } from '../client/printerDirectory.ts'
import { PrintwireError, isValidPrinterId, TOPIC_PREFIX_PATTERN, type JobResult } from '../protocol/index.ts'
import { webSocketPathHint } from './brokerUrl.ts'

export interface PrintOptions {
  url: string
  printerId: string
  data: Buffer
  copies: number
  jobId?: string
  expiresAt?: string
  username?: string
  password?: string
  topicPrefix: string
  timeoutMs: number
  /** Wait up to this long for the broker and a relay serving the printer before publishing; absent: publish at once. */
  waitForPrinterMs?: number
  /** Where progress goes (stderr for people). */
  progress: (line: string) => void
}

/** Pause between connection attempts while waiting for the broker. */
const RECONNECT_DELAY_MS = 1000

/** Resolves with the result once the job printed (or was sent); rejects with the job's final error. */
export async function printJob (options: PrintOptions): Promise<JobResult> {
  if (!isValidPrinterId(options.printerId)) throw new PrintwireError('INVALID_ARGUMENT', `printer id "${options.printerId}" must be 1-64 characters of A-Z a-z 0-9 _ -`)
  if (!TOPIC_PREFIX_PATTERN.test(options.topicPrefix)) throw new PrintwireError('INVALID_ARGUMENT', `topic prefix "${options.topicPrefix}" must be MQTT topic levels without wildcards`)
  const jobId = options.jobId ?? `cli-${randomUUID()}`
  const deadline = options.waitForPrinterMs === undefined ? undefined : Date.now() + options.waitForPrinterMs
  const pw = await connectToBroker(options, deadline)
  try {
    if (deadline !== undefined) {
      const status = await waitForRelay(pw, options, deadline)
      options.progress(`printer ${options.printerId} is ${status.state}${status.detail === undefined ? '' : ` (${status.detail})`}, served by relay ${status.relayId}`)
    }
    return await pw.print(options.printerId, options.data, {
      id: jobId,
      copies: options.copies,
      ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
      timeoutMs: options.timeoutMs,
      onUpdate: (error) => options.progress(`${error.code}: ${error.message} (waiting)`),
      onPublished: () => options.progress(`job ${jobId} (${options.data.length} bytes) published to ${options.printerId}; waiting for its result`)
    })
  } finally {
    await pw.close()
  }
}

/**
 * Connects to the broker. Without a deadline, the first failure is final; with one, failures to reach it
 * (refused, unknown host, unreachable) are retried until the deadline, but a refusal by the broker itself
 * (bad credentials, not authorised) is final at once: waiting would not change it.
 */
async function connectToBroker (options: PrintOptions, deadline: number | undefined): Promise<PrintwireClient> {
  for (;;) {
    try {
      return await connect(options.url, {
        topicPrefix: options.topicPrefix,
        clientId: `printwire-cli-${randomUUID().slice(0, 8)}`,
        ...(options.username === undefined ? {} : { username: options.username }),
        ...(options.password === undefined ? {} : { password: options.password })
      })
    } catch (error) {
      if (!(error instanceof PrintwireError)) throw error
      // (The client library's own message already names the URL.)
      const reason = error.cause instanceof Error ? error.cause.message : error.message.replace(`cannot connect to the broker at ${options.url}: `, '')
      if (error.code === 'LOGIN_REFUSED') {
        throw new PrintwireError('LOGIN_REFUSED', `the broker at ${options.url} refused the log-in${options.username === undefined ? ' of an anonymous client: set MQTT_USERNAME and MQTT_PASSWORD' : ` of user "${options.username}": check MQTT_USERNAME and MQTT_PASSWORD`} (${reason})`)
      }
      if (error.code !== 'BROKER_UNREACHABLE') throw error
      if (deadline === undefined || !isNetworkError(error.cause) || Date.now() + RECONNECT_DELAY_MS >= deadline) {
        const waited = deadline === undefined ? '' : ` (waited up to ${options.waitForPrinterMs} ms)`
        const hint = isNetworkError(error.cause) ? '' : webSocketPathHint(options.url)
        throw new PrintwireError('BROKER_UNREACHABLE', `cannot connect to the broker at ${options.url}: ${reason}${waited}${hint}`)
      }
      options.progress(`cannot connect to the broker at ${options.url} yet (${reason}); retrying`)
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS))
    }
  }
}

/** A socket or name-resolution error (ECONNREFUSED, ENOTFOUND, EAI_AGAIN, EHOSTUNREACH, ...), not a broker's refusal. */
function isNetworkError (error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^E[A-Z_]+$/.test(code)
}

/**
 * Resolves with the printer's status once a serving relay announces it (SERVED_STATES); rejects with NO_RELAY
 * at the deadline, naming the last status seen.
 */
async function waitForRelay (pw: PrintwireClient, options: PrintOptions, deadline: number): Promise<PrinterInfo> {
  const { printerId } = options
  let last: PrinterInfo | undefined
  let timer: NodeJS.Timeout | undefined
  let stop: () => void = () => {}
  try {
    return await new Promise<PrinterInfo>((resolve, reject) => {
      const check = (): void => {
        const status = pw.printers().find((printer) => printer.printerId === printerId)
        if (status === undefined || (last !== undefined && JSON.stringify(status) === JSON.stringify(last))) return
        last = status
        if (SERVED_STATES.includes(status.state)) resolve(status)
        else options.progress(`printer ${printerId} is ${status.state}${status.detail === undefined ? '' : ` (${status.detail})`}; waiting for a relay`)
      }
      timer = setTimeout(() => {
        const seen = last === undefined
          ? 'no relay has announced it on this broker'
          : `its last status is ${last.state}${last.detail === undefined ? '' : ` (${last.detail})`} from relay ${last.relayId} at ${last.at}`
        reject(new PrintwireError('NO_RELAY', `no relay served printer "${printerId}" within ${options.waitForPrinterMs} ms: ${seen}; nothing was published`))
      }, Math.max(0, deadline - Date.now()))
      options.progress(`waiting up to ${Math.max(0, deadline - Date.now())} ms for a relay to serve printer ${printerId}`)
      stop = pw.on('printers', check)
      check()
    })
  } finally {
    clearTimeout(timer)
    stop()
  }
}
