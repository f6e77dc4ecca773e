/**
 * The body of `POST /api/printers/<id>/jobs` (SPEC "HTTP API") made into the job that is sent: a JSON envelope
 * (checked as the relay checks it), or raw bytes (`application/octet-stream`, `text/plain`), each given an id
 * so that every job sent through the API has one to follow. The client library then publishes it as an envelope.
 * `Idempotency-Key` is the job id; given with an envelope that has another id, the request is refused.
 */
import { randomUUID } from 'node:crypto'
import { JOB_ID_PATTERN, parseJob, PrintwireError, type ParsedJob } from '../../protocol/index.ts'

export interface JobRequest {
  /** The Content-Type header, parameters included. */
  contentType: string | undefined
  body: Buffer
  idempotencyKey: string | undefined
  maxJobBytes: number
}

export interface PreparedJob {
  jobId: string
  /** The job as checked here (its data, copies and expiry), so that it is not parsed again to be sent. */
  parsed: ParsedJob
}

const RAW_TYPES = new Set(['application/octet-stream', 'text/plain'])

export function prepareJob (request: JobRequest): PreparedJob {
  const key = request.idempotencyKey?.trim()
  if (key !== undefined && !JOB_ID_PATTERN.test(key)) {
    throw new PrintwireError('INVALID_ARGUMENT', 'Idempotency-Key must be 1-128 characters of A-Z a-z 0-9 . _ : - (it is the job id)')
  }
  const type = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (type === 'application/json') return prepareEnvelope(request, key)
  if (RAW_TYPES.has(type)) return prepareRaw(request, key)
  throw new PrintwireError('UNSUPPORTED_MEDIA_TYPE', `a job is application/json (an envelope), application/octet-stream or text/plain (raw bytes), not ${type === '' ? 'a body without a Content-Type' : `"${type.slice(0, 60)}"`}`)
}

function prepareEnvelope (request: JobRequest, key: string | undefined): PreparedJob {
  const first = request.body.findIndex((byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d)
  if (first === -1 || request.body[first] !== 0x7b) throw new PrintwireError('INVALID_JOB', 'an application/json job is a JSON envelope: {"data": "...", ...}')
  const job = parseJob(request.body, request.maxJobBytes)
  if (job.id !== undefined && key !== undefined && job.id !== key) {
    throw new PrintwireError('INVALID_ARGUMENT', `Idempotency-Key "${key}" and the envelope's id "${job.id}" differ: give one, or the same`)
  }
  const jobId = job.id ?? key ?? randomUUID()
  return { jobId, parsed: { ...job, id: jobId } }
}

function prepareRaw (request: JobRequest, key: string | undefined): PreparedJob {
  if (request.body.length === 0) throw new PrintwireError('INVALID_JOB', 'the job is empty')
  if (request.body.length > request.maxJobBytes) {
    throw new PrintwireError('JOB_TOO_LARGE', `the job is ${request.body.length} bytes; the limit is ${request.maxJobBytes} bytes`)
  }
  const jobId = key ?? randomUUID()
  return { jobId, parsed: { kind: 'envelope', id: jobId, data: request.body, copies: 1 } }
}
