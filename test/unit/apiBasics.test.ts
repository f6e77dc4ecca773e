/**
 * The HTTP API's pure parts (SPEC "HTTP API"): Authorization headers read, each error code's HTTP status, and a
 * job request made into the envelope that is published.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseJob, PrintwireError } from '../../protocol/index.ts'
import { readCredentials } from '../../web/api/credentials.ts'
import { httpStatusOf } from '../../web/api/httpStatus.ts'
import { prepareJob, type PreparedJob } from '../../web/api/jobRequest.ts'

const basic = (text: string): string => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`

describe('Authorization headers', () => {
  it('reads Basic and Bearer, the scheme in any case', () => {
    expect(readCredentials(basic('alice:pw:with:colons'))).toEqual({ kind: 'basic', username: 'alice', password: 'pw:with:colons' })
    expect(readCredentials(`bearer ${'a'.repeat(40)}.b-c_d`)).toEqual({ kind: 'bearer', token: `${'a'.repeat(40)}.b-c_d` })
    expect(readCredentials(undefined)).toEqual({ kind: 'none' })
    expect(readCredentials('  ')).toEqual({ kind: 'none' })
  })

  it('calls anything else malformed, with a reason', () => {
    for (const header of ['Basic', 'Basic !!!', basic('no-colon'), basic(':pw'), 'Digest abc', 'Bearer a b', 'Bearer <script>', `Bearer ${'x'.repeat(20_000)}`]) {
      const read = readCredentials(header)
      expect(read.kind, header.slice(0, 30)).toBe('malformed')
    }
  })

  it('never throws, whatever the header', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (header) => {
      expect(['none', 'basic', 'bearer', 'malformed']).toContain(readCredentials(header).kind)
    }))
  })
})

describe('HTTP statuses', () => {
  it('are SPEC\'s for its codes, 500 for a code the API does not expect', () => {
    expect([httpStatusOf('UNAUTHORIZED'), httpStatusOf('FORBIDDEN'), httpStatusOf('NOT_FOUND')]).toEqual([401, 403, 404])
    expect([httpStatusOf('INVALID_JOB'), httpStatusOf('JOB_TOO_LARGE'), httpStatusOf('JOB_EXPIRED')]).toEqual([422, 422, 422])
    expect([httpStatusOf('NO_RELAY'), httpStatusOf('TIMEOUT'), httpStatusOf('UNCERTAIN'), httpStatusOf('PRINTER_ERROR')]).toEqual([503, 504, 502, 502])
    expect(httpStatusOf('SOMETHING_NEW')).toBe(500)
  })
})

describe('a job request made into the envelope that is published', () => {
  const MAX = 1000
  const prepared = (contentType: string | undefined, body: string | Buffer, idempotencyKey?: string): PreparedJob =>
    prepareJob({ contentType, body: Buffer.isBuffer(body) ? body : Buffer.from(body), idempotencyKey, maxJobBytes: MAX })
  const refusal = (fn: () => unknown): string => {
    try {
      fn()
    } catch (error) {
      if (error instanceof PrintwireError) return error.code
      throw error
    }
    return 'accepted'
  }

  it('keeps an envelope with its id as it is', () => {
    const body = '{"id":"t-1","data":"<p>","copies":2}'
    expect(prepared('application/json; charset=utf-8', body)).toEqual({ jobId: 't-1', parsed: parseJob(Buffer.from(body), MAX) })
  })

  it('gives an envelope without an id the Idempotency-Key, or a fresh one', () => {
    const keyed = prepared('application/json', '{"data":"<p>"}', 'order-77')
    expect(keyed.jobId).toBe('order-77')
    expect(keyed.parsed).toEqual({ ...parseJob(Buffer.from('{"data":"<p>"}'), MAX), id: 'order-77' })
    const fresh = prepared('application/json', '{"data":"<p>"}')
    expect(fresh.parsed.id).toBe(fresh.jobId)
    expect(fresh.jobId).toMatch(/^[A-Za-z0-9._:-]{1,128}$/)
  })

  it('takes raw bytes as the job\'s data, every byte value kept, with an id', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const raw = prepared('application/octet-stream', bytes, 'g-1')
    expect(raw).toEqual({ jobId: 'g-1', parsed: { kind: 'envelope', id: 'g-1', data: bytes, copies: 1 } })
    expect(prepared('text/plain', '<RC1,1>Hi<p>').parsed.data.toString()).toBe('<RC1,1>Hi<p>')
  })

  it('refuses what is not a job, with the code the API answers', () => {
    expect(refusal(() => prepared('application/json', '<p>'))).toBe('INVALID_JOB')
    expect(refusal(() => prepared('application/json', '{"data":'))).toBe('INVALID_JOB')
    expect(refusal(() => prepared('application/json', '{"id":"a","data":"x"}', 'b'))).toBe('INVALID_ARGUMENT')
    expect(refusal(() => prepared('application/json', '{"data":"x"}', 'bad key!'))).toBe('INVALID_ARGUMENT')
    expect(refusal(() => prepared('text/plain', ''))).toBe('INVALID_JOB')
    expect(refusal(() => prepared('text/plain', 'x'.repeat(MAX + 1)))).toBe('JOB_TOO_LARGE')
    expect(refusal(() => prepared('application/json', JSON.stringify({ data: 'x'.repeat(MAX + 1) })))).toBe('JOB_TOO_LARGE')
    expect(refusal(() => prepared('application/xml', '<p/>'))).toBe('UNSUPPORTED_MEDIA_TYPE')
    expect(refusal(() => prepared(undefined, 'x'))).toBe('UNSUPPORTED_MEDIA_TYPE')
  })

  it('never throws anything but a PrintwireError, whatever the body and headers', () => {
    fc.assert(fc.property(
      fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'image/png', undefined),
      fc.uint8Array({ maxLength: 1200 }),
      fc.option(fc.string({ maxLength: 140 }), { nil: undefined }),
      (contentType, body, key) => {
        try {
          const job = prepareJob({ contentType, body: Buffer.from(body), idempotencyKey: key, maxJobBytes: MAX })
          expect(job.parsed.id).toBe(job.jobId)
          expect(job.parsed.data.length).toBeLessThanOrEqual(MAX)
        } catch (error) {
          expect(error).toBeInstanceOf(PrintwireError)
        }
      }))
  })
})
