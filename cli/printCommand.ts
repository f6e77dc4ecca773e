/**
 * `printwire print`: publishes a file (or stdin) as a job envelope with its own id, then waits for the
 * job's outcome on `responses`/`errors`. Errors the relay reports as retryable (the printer is
 * unreachable or out of paper: the relay keeps the job) are shown and waiting goes on; a result or a
 * final error ends it.
 *
 * With `waitForPrinterMs` it first waits, up to that long, for the broker to accept a connection and for
 * a relay to serve the printer (its retained status `online`, `unreachable` or `error`): MQTT drops a job
 * nobody has subscribed to yet, so a script that starts together with its relay (docker compose) must
 * not publish before the relay is there.
 */
import { randomUUID } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'
import { disableNagle } from '../runtime/noDelay.ts'
import {
  PrintwireError, errorsTopic, isValidPrinterId, jobsTopic, readJobOutcome, readPrinterStatus, responsesTopic, statusTopic, TOPIC_PREFIX_PATTERN,
  type JobEnvelope, type JobErrorMessage, type JobResult, type PrinterState, type PrinterStatusMessage
} from '../protocol/index.ts'

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


/**
 * The states a relay announces once it has subscribed to the printer's jobs: a job published then is taken,
 * printed at once (`online`) or kept and retried until the printer can print it (`unreachable`, `error`).
 * `offline` is the relay's Last Will or its clean stop: nobody takes the job.
 */
const SERVED_STATES: readonly PrinterState[] = ['online', 'unreachable', 'error']

/** Pause between connection attempts while waiting for the broker. */
const RECONNECT_DELAY_MS = 1000

/** Resolves with the result once the job printed (or was sent); rejects with the job's final error. */
export async function printJob (options: PrintOptions): Promise<JobResult> {
  if (!isValidPrinterId(options.printerId)) throw new PrintwireError('INVALID_ARGUMENT', `printer id "${options.printerId}" must be 1-64 characters of A-Z a-z 0-9 _ -`)
  if (!TOPIC_PREFIX_PATTERN.test(options.topicPrefix)) throw new PrintwireError('INVALID_ARGUMENT', `topic prefix "${options.topicPrefix}" must be MQTT topic levels without wildcards`)
  const jobId = options.jobId ?? `cli-${randomUUID()}`
  const envelope: JobEnvelope = { id: jobId, data: options.data.toString('base64'), encoding: 'base64', copies: options.copies }
  if (options.expiresAt !== undefined) envelope.expiresAt = options.expiresAt
  const deadline = options.waitForPrinterMs === undefined ? undefined : Date.now() + options.waitForPrinterMs
  const client = await connectToBroker(options, deadline)
  let timer: NodeJS.Timeout | undefined
  try {
    let fail: (error: PrintwireError) => void = () => {}
    const outcome = new Promise<JobResult>((resolve, reject) => {
      fail = reject
      client.on('message', (_topic, payload) => {
        const message = readJobOutcome(payload.toString('utf8'))
        if (message === null || message.jobId !== jobId) return
        if ('status' in message) {
          resolve(message)
          return
        }
        const error = message as JobErrorMessage
        if (error.retryable) {
          options.progress(`${error.code}: ${error.message} (waiting)`)
          return
        }
        // As the relay says (a code of a newer relay's is not in this version's tables).
        reject(new PrintwireError(error.code, error.message, { retryable: error.retryable }))
      })
    })
    // If subscribing, waiting or publishing fails, nobody awaits `outcome`: it must not become an unhandled rejection.
    outcome.catch(() => {})
    await client.subscribeAsync([responsesTopic(options.topicPrefix, options.printerId), errorsTopic(options.topicPrefix, options.printerId)], { qos: 1 }).catch((error: Error) => {
      // The embedded broker refuses (SUBACK 0x80) what the user may not read: then it may not print there either.
      if (!/Subscribe error/.test(error.message)) throw error
      throw new PrintwireError('NOT_ALLOWED', `the broker refused to send ${options.username === undefined ? 'an anonymous client' : `user "${options.username}"`} the results of printer "${options.printerId}": this user may not print on it; nothing was published`)
    })
    if (deadline !== undefined) {
      const status = await waitForRelay(client, options, deadline)
      options.progress(`printer ${options.printerId} is ${status.state}${status.detail === undefined ? '' : ` (${status.detail})`}, served by relay ${status.relayId}`)
    }
    await publishOrRefused(client, jobsTopic(options.topicPrefix, options.printerId), JSON.stringify(envelope), options)
    timer = setTimeout(() => fail(new PrintwireError('TIMEOUT', `no result for job ${jobId} within ${options.timeoutMs} ms (is a relay serving printer "${options.printerId}"?)`)), options.timeoutMs)
    options.progress(`job ${jobId} (${options.data.length} bytes) published to ${options.printerId}; waiting for its result`)
    return await outcome
  } finally {
    clearTimeout(timer)
    await client.endAsync(true)
  }
}

/**
 * Connects to the broker. Without a deadline, the first failure is final; with one, failures to reach it
 * (refused, unknown host, unreachable) are retried until the deadline, but a refusal by the broker itself
 * (bad credentials, not authorised) is final at once: waiting would not change it.
 */
async function connectToBroker (options: PrintOptions, deadline: number | undefined): Promise<MqttClient> {
  for (;;) {
    try {
      return disableNagle(await mqtt.connectAsync(options.url, {
        protocolVersion: 4,
        clientId: `printwire-cli-${randomUUID().slice(0, 8)}`,
        clean: true,
        connectTimeout: 10_000,
        reconnectPeriod: 1000,
        ...(options.username === undefined ? {} : { username: options.username }),
        ...(options.password === undefined ? {} : { password: options.password })
      }))
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      const returnCode = (error as { code?: unknown } | null)?.code
      if (returnCode === 4 || returnCode === 5) {
        throw new PrintwireError('LOGIN_REFUSED', `the broker at ${options.url} refused the log-in${options.username === undefined ? ' of an anonymous client: set MQTT_USERNAME and MQTT_PASSWORD' : ` of user "${options.username}": check MQTT_USERNAME and MQTT_PASSWORD`} (${reason})`)
      }
      if (deadline === undefined || !isNetworkError(error) || Date.now() + RECONNECT_DELAY_MS >= deadline) {
        const waited = deadline === undefined ? '' : ` (waited up to ${options.waitForPrinterMs} ms)`
        throw new PrintwireError('BROKER_UNREACHABLE', `cannot connect to the broker at ${options.url}: ${reason}${waited}`)
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
 * Subscribes to the printer's retained status and resolves with the first one a serving relay announces
 * (SERVED_STATES); rejects with NO_RELAY at the deadline, naming the last status seen.
 */
async function waitForRelay (client: MqttClient, options: PrintOptions, deadline: number): Promise<PrinterStatusMessage> {
  const { printerId } = options
  const topic = statusTopic(options.topicPrefix, printerId)
  let last: PrinterStatusMessage | undefined
  let timer: NodeJS.Timeout | undefined
  let onMessage: ((topic: string, payload: Buffer) => void) | undefined
  try {
    return await new Promise<PrinterStatusMessage>((resolve, reject) => {
      onMessage = (received, payload) => {
        if (received !== topic) return
        const status = readPrinterStatus(payload.toString('utf8'))
        if (status === null || status.printerId !== printerId) return
        last = status
        if (SERVED_STATES.includes(status.state)) resolve(status)
        else options.progress(`printer ${printerId} is ${status.state}${status.detail === undefined ? '' : ` (${status.detail})`}; waiting for a relay`)
      }
      client.on('message', onMessage)
      timer = setTimeout(() => {
        const seen = last === undefined
          ? 'no relay has announced it on this broker'
          : `its last status is ${last.state}${last.detail === undefined ? '' : ` (${last.detail})`} from relay ${last.relayId} at ${last.at}`
        reject(new PrintwireError('NO_RELAY', `no relay served printer "${printerId}" within ${options.waitForPrinterMs} ms: ${seen}; nothing was published`))
      }, Math.max(0, deadline - Date.now()))
      options.progress(`waiting up to ${Math.max(0, deadline - Date.now())} ms for a relay to serve printer ${printerId}`)
      client.subscribeAsync(topic, { qos: 1 }).catch(reject)
    })
  } finally {
    clearTimeout(timer)
    if (onMessage !== undefined) client.off('message', onMessage)
  }
}

/**
 * Publishes QoS 1. A broker that refuses the publish (this user may not print on the printer; the
 * embedded broker closes the connection, as MQTT 3.1.1 allows) would otherwise have mqtt.js resend it on
 * every reconnect: the CLI stops and says why instead. (Mosquitto acknowledges a refused publish and drops
 * it: the CLI then waits for a result until --timeout.)
 */
async function publishOrRefused (client: MqttClient, topic: string, payload: string, options: PrintOptions): Promise<void> {
  let onClose: () => void = () => {}
  const closed = new Promise<never>((_resolve, reject) => {
    onClose = () => reject(new PrintwireError('PUBLISH_REFUSED', `the broker closed the connection when the job was published: the job is larger than the broker accepts (MAX_JOB_BYTES), or ${options.username === undefined ? 'anonymous clients' : `user "${options.username}"`} may not print on printer "${options.printerId}"`))
    client.once('close', onClose)
  })
  try {
    await Promise.race([client.publishAsync(topic, payload, { qos: 1 }), closed])
  } finally {
    client.off('close', onClose)
  }
}
