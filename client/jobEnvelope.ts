/**
 * What `print` publishes: its arguments checked, and the JSON envelope of SPEC "Jobs" built from them. Text
 * goes as `utf8` (readable on the wire), bytes as `base64`. Runs in browsers and Node alike: no Buffer.
 */
import { PrintwireError } from '../protocol/errorCodes.ts'
import { JOB_ID_PATTERN, MAX_COPIES, MIN_COPIES } from '../protocol/limits.ts'
import type { JobEnvelope } from '../protocol/payloads.ts'
import { isValidPrinterId } from '../protocol/topics.ts'

/** What `print` takes: a string (sent as UTF-8) or bytes (a Uint8Array, Buffer included). */
export type JobData = string | Uint8Array

export interface JobFields {
  id: string
  copies?: number | undefined
  expiresAt?: string | undefined
}

/** A lone UTF-16 surrogate has no UTF-8 form: the relay would refuse the envelope (INVALID_JOB). */
const LONE_SURROGATE = /\p{Cs}/u

/** An ISO-8601 date-time with a time zone, as the relay takes it (e.g. `2026-11-21T20:00:00Z`). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/** `pw-<time>-<random>`: unique per call, within the envelope id's `A-Z a-z 0-9 . _ : -`. */
export function newJobId (now = Date.now()): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(10))
  return `pw-${now.toString(36)}-${Array.from(bytes, (b) => (b % 36).toString(36)).join('')}`
}

/** Throws INVALID_ARGUMENT for a printer id that is not 1-64 characters of `A-Z a-z 0-9 _ -`. */
export function checkPrinterId (printerId: unknown): string {
  if (typeof printerId !== 'string' || !isValidPrinterId(printerId)) {
    throw new PrintwireError('INVALID_ARGUMENT', `printer id ${JSON.stringify(printerId)} must be 1-64 characters of A-Z a-z 0-9 _ -`)
  }
  return printerId
}

/** The envelope `print` publishes; throws INVALID_JOB (saying what is wrong) for what the relay would refuse. */
export function buildEnvelope (data: JobData, fields: JobFields): string {
  const fail = (why: string): never => { throw new PrintwireError('INVALID_JOB', why, { jobId: fields.id }) }
  if (typeof fields.id !== 'string' || !JOB_ID_PATTERN.test(fields.id)) fail(`job id ${JSON.stringify(fields.id)} must be 1-128 characters of A-Z a-z 0-9 . _ : -`)
  const envelope: JobEnvelope = { id: fields.id, data: '' }
  if (typeof data === 'string') {
    if (data.length === 0) fail('the job is empty')
    if (LONE_SURROGATE.test(data)) fail('the text holds a lone UTF-16 surrogate, which has no UTF-8 form: pass bytes instead')
    envelope.data = data
    envelope.encoding = 'utf8'
  } else if (data instanceof Uint8Array) {
    if (data.length === 0) fail('the job is empty')
    envelope.data = bytesToBase64(data)
    envelope.encoding = 'base64'
  } else {
    fail('data must be a string or bytes (Uint8Array, Buffer)')
  }
  if (fields.copies !== undefined) {
    if (!Number.isInteger(fields.copies) || fields.copies < MIN_COPIES || fields.copies > MAX_COPIES) fail(`copies must be a whole number from ${MIN_COPIES} to ${MAX_COPIES}`)
    envelope.copies = fields.copies
  }
  if (fields.expiresAt !== undefined) {
    if (typeof fields.expiresAt !== 'string' || !DATE_TIME.test(fields.expiresAt) || Number.isNaN(Date.parse(fields.expiresAt))) {
      fail('expiresAt must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T20:00:00Z')
    }
    envelope.expiresAt = fields.expiresAt
  }
  return JSON.stringify(envelope)
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** RFC 4648 base64 with padding, of any bytes (browsers have no Buffer; btoa takes only Latin-1 strings). */
export function bytesToBase64 (bytes: Uint8Array): string {
  const out: string[] = []
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
    out.push(ALPHABET[n >> 18] as string, ALPHABET[(n >> 12) & 63] as string, ALPHABET[(n >> 6) & 63] as string, ALPHABET[n & 63] as string)
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = (bytes[i] as number) << 16
    out.push(ALPHABET[n >> 18] as string, ALPHABET[(n >> 12) & 63] as string, '==')
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8)
    out.push(ALPHABET[n >> 18] as string, ALPHABET[(n >> 12) & 63] as string, ALPHABET[(n >> 6) & 63] as string, '=')
  }
  return out.join('')
}
