/**
 * Turns an MQTT payload published on `printers/<id>/jobs` into a job (SPEC "Jobs").
 * Raw: the first non-blank byte is not `{`: the bytes print as they are.
 * Envelope: the first non-blank byte is `{`: it must be a valid JSON envelope.
 */
import { z } from 'zod'
import { PrintwireError } from './errorCodes.ts'
import { JOB_ID_PATTERN, MAX_COPIES, MIN_COPIES, maxPayloadBytes } from './limits.ts'

export interface ParsedJob {
  kind: 'raw' | 'envelope'
  /** The client's id, when it gave one. */
  id?: string
  /** The exact bytes to send to the printer, once per copy. */
  data: Buffer
  copies: number
  /** Epoch milliseconds after which the job must not print. */
  expiresAt?: number
}

/** Strict: an envelope that is not valid UTF-8 is refused rather than printed with U+FFFD in place of its bytes. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** A lone UTF-16 surrogate (from a JSON `\uD800` escape) has no UTF-8 form: it would print as U+FFFD. */
const LONE_SURROGATE = /\p{Cs}/u

/**
 * RFC 4648 base64 with padding. Checked as "alphabet, then up to two `=`, length a multiple of 4" rather than
 * with a repeated group, which makes the regex engine overflow its stack on data of a few MiB.
 */
const BASE64_ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/

function isBase64 (text: string): boolean {
  return text.length % 4 === 0 && BASE64_ALPHABET.test(text)
}

const envelopeSchema = z.strictObject({
  id: z.string().regex(JOB_ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -').optional(),
  data: z.string().min(1, 'must not be empty'),
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
  copies: z.number().int('must be a whole number').min(MIN_COPIES).max(MAX_COPIES).default(1),
  expiresAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T20:00:00Z' }).optional()
})

function isBlank (byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d
}

function firstNonBlank (payload: Uint8Array): number {
  for (const byte of payload) if (!isBlank(byte)) return byte
  return -1
}

function describeIssues (error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : 'envelope'
      return `${where}: ${issue.message}`
    })
    .join('; ')
}

/** The client's job id from a payload, if it is an envelope that has a valid one (for error reports). */
export function peekJobId (payload: Uint8Array): string | undefined {
  if (firstNonBlank(payload) !== 0x7b) return undefined
  try {
    const value: unknown = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'))
    if (typeof value === 'object' && value !== null && 'id' in value) {
      const id = (value as { id: unknown }).id
      if (typeof id === 'string' && JOB_ID_PATTERN.test(id)) return id
    }
  } catch { /* not JSON: no id */ }
  return undefined
}

/**
 * Parses a job payload. Throws a PrintwireError with code INVALID_JOB (saying what is wrong) or
 * JOB_TOO_LARGE; never cuts a job.
 */
export function parseJob (payload: Uint8Array, maxJobBytes: number): ParsedJob {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  const first = firstNonBlank(bytes)
  if (first === -1) throw new PrintwireError('INVALID_JOB', 'the job is empty')
  if (first !== 0x7b) {
    if (bytes.length > maxJobBytes) {
      throw new PrintwireError('JOB_TOO_LARGE', `the job is ${bytes.length} bytes; the limit is ${maxJobBytes} bytes`)
    }
    return { kind: 'raw', data: Buffer.from(bytes), copies: 1 }
  }

  const envelopeLimit = maxPayloadBytes(maxJobBytes)
  if (bytes.length > envelopeLimit) {
    throw new PrintwireError('JOB_TOO_LARGE', `the envelope is ${bytes.length} bytes; the limit is ${envelopeLimit} bytes (jobs up to ${maxJobBytes} bytes of data)`)
  }
  let text: string
  try {
    text = UTF8.decode(bytes)
  } catch {
    throw new PrintwireError('INVALID_JOB', 'invalid job envelope: it is not valid UTF-8 (send binary data with "encoding": "base64")')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new PrintwireError('INVALID_JOB', `the payload starts with "{" but is not valid JSON: ${(error as Error).message}`)
  }
  const result = envelopeSchema.safeParse(value)
  if (!result.success) throw new PrintwireError('INVALID_JOB', `invalid job envelope: ${describeIssues(result.error)}`)
  const envelope = result.data

  let data: Buffer
  if (envelope.encoding === 'base64') {
    if (!isBase64(envelope.data)) throw new PrintwireError('INVALID_JOB', 'invalid job envelope: data: is not valid base64 (RFC 4648, with padding)')
    data = Buffer.from(envelope.data, 'base64')
  } else {
    if (LONE_SURROGATE.test(envelope.data)) throw new PrintwireError('INVALID_JOB', 'invalid job envelope: data: contains a lone UTF-16 surrogate, which has no UTF-8 form (send binary data with "encoding": "base64")')
    data = Buffer.from(envelope.data, 'utf8')
  }
  if (data.length > maxJobBytes) {
    throw new PrintwireError('JOB_TOO_LARGE', `the job's data is ${data.length} bytes; the limit is ${maxJobBytes} bytes`)
  }
  const job: ParsedJob = { kind: 'envelope', data, copies: envelope.copies }
  if (envelope.id !== undefined) job.id = envelope.id
  if (envelope.expiresAt !== undefined) job.expiresAt = Date.parse(envelope.expiresAt)
  return job
}
