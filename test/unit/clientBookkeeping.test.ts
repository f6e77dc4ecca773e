/**
 * The client library's pure parts: the envelope `print` publishes (client/jobEnvelope.ts), correlation of
 * results to jobs (client/pendingJobs.ts) and the printer list (client/printerDirectory.ts).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { buildEnvelope, bytesToBase64, checkPrinterId, newJobId } from '../../client/jobEnvelope.ts'
import { decideOutcome, PendingJobs } from '../../client/pendingJobs.ts'
import { PrinterDirectory } from '../../client/printerDirectory.ts'
import { PrintwireError } from '../../protocol/errorCodes.ts'
import { parseJob } from '../../protocol/jobParser.ts'
import { JOB_ID_PATTERN } from '../../protocol/limits.ts'

const AT = '2026-11-30T12:00:00.000Z'

describe('the envelope print publishes', () => {
  it('encodes any bytes as base64 exactly as Node does, and the relay reads back the same bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
      expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'))
    }))
    const every = new Uint8Array(Array.from({ length: 256 }, (_, i) => i))
    const job = parseJob(Buffer.from(buildEnvelope(every, { id: 'b-1' })), 1024)
    expect(job).toMatchObject({ kind: 'envelope', id: 'b-1', copies: 1 })
    expect(job.data.equals(Buffer.from(every))).toBe(true)
  })

  it('sends text as utf8, as typed, with copies and expiresAt', () => {
    const text = ' <RC10,10>Café ✓<p>\n'
    expect(JSON.parse(buildEnvelope(text, { id: 't-1', copies: 3, expiresAt: '2026-11-21T20:00:00Z' }))).toEqual({ id: 't-1', data: text, encoding: 'utf8', copies: 3, expiresAt: '2026-11-21T20:00:00Z' })
    const job = parseJob(Buffer.from(buildEnvelope(text, { id: 't-1' })), 1024)
    expect(job.data.toString('utf8')).toBe(text)
  })

  it('refuses, with INVALID_JOB and what is wrong, what the relay would refuse', () => {
    const cases: Array<[unknown, { id: string, copies?: number, expiresAt?: string }, RegExp]> = [
      ['', { id: 'a' }, /empty/],
      [new Uint8Array(0), { id: 'a' }, /empty/],
      ['x', { id: 'has space' }, /job id/],
      ['x', { id: 'a'.repeat(129) }, /job id/],
      ['x', { id: 'a', copies: 0 }, /copies/],
      ['x', { id: 'a', copies: 101 }, /copies/],
      ['x', { id: 'a', copies: 1.5 }, /copies/],
      ['x', { id: 'a', expiresAt: '2026-11-21' }, /expiresAt/],
      ['x', { id: 'a', expiresAt: '2026-13-45T99:00:00Z' }, /expiresAt/],
      ['\uD800', { id: 'a' }, /surrogate/],
      [42, { id: 'a' }, /string or bytes/]
    ]
    for (const [data, fields, why] of cases) {
      let thrown: unknown
      try { buildEnvelope(data as string, fields) } catch (error) { thrown = error }
      expect(thrown, JSON.stringify(fields)).toBeInstanceOf(PrintwireError)
      expect((thrown as PrintwireError).code).toBe('INVALID_JOB')
      expect((thrown as PrintwireError).message).toMatch(why)
    }
  })

  it('makes fresh ids the relay accepts, and checks printer ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newJobId()))
    expect(ids.size).toBe(1000)
    for (const id of ids) expect(id).toMatch(JOB_ID_PATTERN)
    expect(checkPrinterId('lobby-1')).toBe('lobby-1')
    for (const bad of ['', 'a/b', '+', 'x'.repeat(65), 7]) expect(() => checkPrinterId(bad)).toThrow(/printer id/)
  })
})

describe('correlation', () => {
  const result = (jobId: string, printerId = 'lobby'): string => JSON.stringify({ jobId, printerId, status: 'printed', bytes: 3, durationMs: 5, printer: {}, at: AT })
  const error = (jobId: string | undefined, code: string, retryable: boolean, printerId = 'lobby'): string => JSON.stringify({ jobId, printerId, code, message: `${code} happened`, retryable, at: AT })

  it('tells a result, a final error and a retryable one apart', () => {
    expect(decideOutcome('lobby', result('j1'))).toMatchObject({ jobId: 'j1', decision: { kind: 'result', result: { status: 'printed' } } })
    const failed = decideOutcome('lobby', error('j1', 'JOB_EXPIRED', false))
    expect(failed?.decision.kind).toBe('failed')
    const thrown = (failed?.decision as { error: PrintwireError }).error
    expect(thrown).toBeInstanceOf(PrintwireError)
    expect(thrown).toMatchObject({ code: 'JOB_EXPIRED', message: 'JOB_EXPIRED happened', retryable: false, jobId: 'j1', printerId: 'lobby' })
    expect(decideOutcome('lobby', error('j1', 'PRINTER_UNREACHABLE', true))).toMatchObject({ decision: { kind: 'progress', error: { code: 'PRINTER_UNREACHABLE' } } })
    // A newer part's code is an error all the same, final unless it says it is retryable.
    expect(decideOutcome('lobby', error('j1', 'SOMETHING_NEW', false))?.decision.kind).toBe('failed')
  })

  it('ignores what names no job, another printer than its topic, or is not a result', () => {
    expect(decideOutcome('lobby', error(undefined, 'PRINTER_ERROR', true))).toBeNull()
    expect(decideOutcome('lobby', result('j1', 'bar'))).toBeNull()
    expect(decideOutcome('lobby', 'not json')).toBeNull()
    expect(decideOutcome('lobby', JSON.stringify({ jobId: 'j1', printerId: 'lobby', status: 'maybe' }))).toBeNull()
  })

  it('routes each message to the job of that printer and id only', () => {
    const jobs = new PendingJobs<string>()
    jobs.add({ printerId: 'lobby', jobId: 'j1', envelope: '{}', extra: 'lobby j1' })
    jobs.add({ printerId: 'bar', jobId: 'j1', envelope: '{}', extra: 'bar j1' })
    jobs.add({ printerId: 'lobby', jobId: 'j2', envelope: '{}', extra: 'lobby j2' })
    expect(jobs.route('lobby', result('j1'))?.job.extra).toBe('lobby j1')
    expect(jobs.route('bar', result('j1', 'bar'))?.job.extra).toBe('bar j1')
    expect(jobs.route('lobby', result('j2'))?.job.extra).toBe('lobby j2')
    expect(jobs.route('lobby', result('other'))).toBeNull()
    expect(jobs.get('lobby', 'j1')).toMatchObject({ phase: 'publishing', closesWhilePublishing: 0 })
  })

  it('refuses a second wait for the same job on the same printer, and frees the id once settled', () => {
    const jobs = new PendingJobs<null>()
    jobs.add({ printerId: 'lobby', jobId: 'j1', envelope: '{}', extra: null })
    expect(() => jobs.add({ printerId: 'lobby', jobId: 'j1', envelope: '{}', extra: null })).toThrow(/already waiting/)
    expect(jobs.delete('lobby', 'j1')).toBe(true)
    expect(jobs.route('lobby', result('j1'))).toBeNull()
    jobs.add({ printerId: 'lobby', jobId: 'j1', envelope: '{}', extra: null })
    expect(jobs.size).toBe(1)
  })
})

describe('the printer list', () => {
  const status = (printerId: string, state: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ printerId, state, relayId: 'venue', at: AT, instance: 'abc', ...extra })

  it('keeps the latest status of each printer, with the fields of SPEC, sorted', () => {
    const directory = new PrinterDirectory()
    expect(directory.update('lobby', status('lobby', 'online'))).toBe(true)
    expect(directory.update('bar', status('bar', 'unreachable', { detail: 'ECONNREFUSED', queued: 2 }))).toBe(true)
    expect(directory.update('lobby', status('lobby', 'offline'))).toBe(true)
    expect(directory.list()).toEqual([
      { printerId: 'bar', state: 'unreachable', detail: 'ECONNREFUSED', queued: 2, relayId: 'venue', at: AT },
      { printerId: 'lobby', state: 'offline', relayId: 'venue', at: AT }
    ])
  })

  it('ignores what is not a status of that printer, and forgets a cleared one', () => {
    const directory = new PrinterDirectory()
    directory.update('lobby', status('lobby', 'online'))
    expect(directory.update('lobby', status('bar', 'online'))).toBe(false)
    expect(directory.update('lobby', status('lobby', 'sleeping'))).toBe(false)
    expect(directory.update('lobby', '{')).toBe(false)
    expect(directory.list().map((p) => p.state)).toEqual(['online'])
    directory.list()[0]!.state = 'error'
    expect(directory.get('lobby')?.state).toBe('online')
    expect(directory.update('lobby', '')).toBe(true)
    expect(directory.list()).toEqual([])
  })
})
