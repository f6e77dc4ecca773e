/**
 * `printwire print`: publishes a file (or stdin) as a job envelope with its own id, then waits for the
 * job's outcome on `responses`/`errors`. Errors the relay reports as retryable (the printer is
 * unreachable or out of paper: the relay keeps the job) are shown and waiting goes on; a result or a
 * final error ends it.
 */
import { randomUUID } from 'node:crypto'
import mqtt from 'mqtt'
import {
  errorsTopic, isValidPrinterId, jobsTopic, readJobOutcome, responsesTopic, TOPIC_PREFIX_PATTERN,
  type JobEnvelope, type JobErrorMessage, type JobResult
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
  /** Where progress goes (stderr for people). */
  progress: (line: string) => void
}

export class PrintCommandError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

/** Resolves with the result once the job printed (or was sent); rejects with the job's final error. */
export async function printJob (options: PrintOptions): Promise<JobResult> {
  if (!isValidPrinterId(options.printerId)) throw new PrintCommandError('INVALID_ARGUMENT', `printer id "${options.printerId}" must be 1-64 characters of A-Z a-z 0-9 _ -`)
  if (!TOPIC_PREFIX_PATTERN.test(options.topicPrefix)) throw new PrintCommandError('INVALID_ARGUMENT', `topic prefix "${options.topicPrefix}" must be MQTT topic levels without wildcards`)
  const jobId = options.jobId ?? `cli-${randomUUID()}`
  const envelope: JobEnvelope = { id: jobId, data: options.data.toString('base64'), encoding: 'base64', copies: options.copies }
  if (options.expiresAt !== undefined) envelope.expiresAt = options.expiresAt
  const client = await mqtt.connectAsync(options.url, {
    protocolVersion: 4,
    clientId: `printwire-cli-${randomUUID().slice(0, 8)}`,
    clean: true,
    connectTimeout: 10_000,
    reconnectPeriod: 1000,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password })
  }).catch((error: unknown) => {
    throw new PrintCommandError('BROKER_UNREACHABLE', `cannot connect to the broker at ${options.url}: ${error instanceof Error ? error.message : String(error)}`)
  })
  let timer: NodeJS.Timeout | undefined
  try {
    const outcome = new Promise<JobResult>((resolve, reject) => {
      timer = setTimeout(() => reject(new PrintCommandError('TIMEOUT', `no result for job ${jobId} within ${options.timeoutMs} ms (is a relay serving printer "${options.printerId}"?)`)), options.timeoutMs)
      client.on('message', (_topic, payload) => {
        const message = readJobOutcome(payload.toString('utf8'))
        if (message === null || message.jobId !== jobId) return
        if ('status' in message) {
          clearTimeout(timer)
          resolve(message)
          return
        }
        const error = message as JobErrorMessage
        if (error.retryable) {
          options.progress(`${error.code}: ${error.message} (waiting)`)
          return
        }
        clearTimeout(timer)
        reject(new PrintCommandError(error.code, error.message))
      })
    })
    // If subscribing or publishing fails, nobody awaits `outcome`: it must not become an unhandled rejection.
    outcome.catch(() => {})
    await client.subscribeAsync([responsesTopic(options.topicPrefix, options.printerId), errorsTopic(options.topicPrefix, options.printerId)], { qos: 1 })
    await client.publishAsync(jobsTopic(options.topicPrefix, options.printerId), JSON.stringify(envelope), { qos: 1 })
    options.progress(`job ${jobId} (${options.data.length} bytes) published to ${options.printerId}; waiting for its result`)
    return await outcome
  } finally {
    clearTimeout(timer)
    await client.endAsync(true)
  }
}
