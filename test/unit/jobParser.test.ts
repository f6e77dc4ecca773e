/**
 * Job parsing against SPEC "Jobs": raw payloads, JSON envelopes, size limits, and the INVALID_JOB /
 * JOB_TOO_LARGE errors that say what is wrong. Unit tests plus fast-check properties.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_MAX_JOB_BYTES, maxPayloadBytes, parseJob, peekJobId, PrintwireError, type ErrorCode } from '../../protocol/index.ts'

const LIMIT = 1000
const BLANKS = [0x20, 0x09, 0x0a, 0x0d]
const OPEN_BRACE = 0x7b

function bytes (text: string): Buffer {
  return Buffer.from(text, 'utf8')
}

function envelope (fields: Record<string, unknown>): Buffer {
  return bytes(JSON.stringify(fields))
}

/** The PrintwireError parseJob throws for `payload`; fails the test if it parses or throws anything else. */
function refusal (payload: Uint8Array | string, limit = LIMIT): PrintwireError {
  let parsed: unknown
  try {
    parsed = parseJob(typeof payload === 'string' ? bytes(payload) : payload, limit)
  } catch (error) {
    if (error instanceof PrintwireError) return error
    throw new Error(`parseJob threw something other than a PrintwireError: ${String(error)}`)
  }
  throw new Error(`parseJob accepted a payload it should refuse: ${JSON.stringify(parsed)}`)
}

function expectRefused (payload: Uint8Array | string, code: ErrorCode, ...mentions: Array<string | RegExp>): PrintwireError {
  const error = refusal(payload)
  expect(error.code).toBe(code)
  expect(error.retryable).toBe(false)
  for (const mention of mentions) expect(error.message).toMatch(mention)
  return error
}

describe('raw jobs: first non-blank byte is not "{"', () => {
  it('prints an FGL text job as it is', () => {
    const job = parseJob(bytes('<RC10,10><F3>Hello<p>'), LIMIT)
    expect(job.kind).toBe('raw')
    expect(job.data.toString('latin1')).toBe('<RC10,10><F3>Hello<p>')
    expect(job.copies).toBe(1)
    expect(job.id).toBeUndefined()
    expect(job.expiresAt).toBeUndefined()
  })

  it('keeps leading blanks and trailing newlines byte for byte', () => {
    const payload = bytes(' \t\r\n  <RC0,0>x<p>\n')
    const job = parseJob(payload, LIMIT)
    expect(job.kind).toBe('raw')
    expect(job.data.equals(payload)).toBe(true)
  })

  it('keeps binary bytes exactly, every value 0-255 in graphics', () => {
    const payload = Buffer.concat([bytes('<RC0,0><G256>'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), bytes('<p>')])
    const job = parseJob(payload, LIMIT)
    expect(job.kind).toBe('raw')
    expect(job.data.equals(payload)).toBe(true)
  })

  it('treats a payload that starts with a NUL or other control byte as raw', () => {
    const payload = Buffer.from([0x00, 0x7b, 0x1b, 0xff])
    const job = parseJob(payload, LIMIT)
    expect(job.kind).toBe('raw')
    expect([...job.data]).toEqual([0x00, 0x7b, 0x1b, 0xff])
  })

  it('treats text with braces later on, and JSON that is not an object, as raw', () => {
    for (const text of ['Hello {name}<p>', '["not", "an", "envelope"]', '"quoted"', '12345']) {
      const job = parseJob(bytes(text), LIMIT)
      expect(job.kind, text).toBe('raw')
      expect(job.data.toString('utf8')).toBe(text)
    }
  })

  it('reads only the bytes of a view into a larger buffer', () => {
    const backing = Buffer.from('XXXX<p>YYYY')
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 3)
    const job = parseJob(view, LIMIT)
    expect(job.data.toString()).toBe('<p>')
  })

  it('copies the bytes: reusing the payload buffer later does not change the job', () => {
    const payload = bytes('<RC1,1>first<p>')
    const job = parseJob(payload, LIMIT)
    payload.fill(0x41)
    expect(job.data.toString()).toBe('<RC1,1>first<p>')
  })
})

describe('envelopes: first non-blank byte is "{"', () => {
  it('defaults to utf8 and one copy, with no id and no expiry', () => {
    const job = parseJob(envelope({ data: '<RC10,10>Café ✓<p>' }), LIMIT)
    expect(job).toEqual({ kind: 'envelope', data: bytes('<RC10,10>Café ✓<p>'), copies: 1 })
  })

  it('is recognised after leading blanks', () => {
    const job = parseJob(bytes(' \r\n\t {"id":"t-1","data":"x<p>"}'), LIMIT)
    expect(job.kind).toBe('envelope')
    expect(job.id).toBe('t-1')
    expect(job.data.toString()).toBe('x<p>')
  })

  it('takes explicit utf8', () => {
    const job = parseJob(envelope({ data: 'Grüße<p>', encoding: 'utf8' }), LIMIT)
    expect(job.data.equals(bytes('Grüße<p>'))).toBe(true)
  })

  it('decodes base64 holding every byte value 0-255 exactly', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const job = parseJob(envelope({ id: 'g-1', data: all.toString('base64'), encoding: 'base64' }), LIMIT)
    expect(job.kind).toBe('envelope')
    expect(job.data.equals(all)).toBe(true)
  })

  it('decodes base64 with one and two padding characters', () => {
    expect([...parseJob(envelope({ data: 'eA==', encoding: 'base64' }), LIMIT).data]).toEqual([0x78])
    expect([...parseJob(envelope({ data: 'eHk=', encoding: 'base64' }), LIMIT).data]).toEqual([0x78, 0x79])
  })

  it('accepts copies from 1 to 100', () => {
    for (const copies of [1, 2, 50, 100]) {
      expect(parseJob(envelope({ data: 'x', copies }), LIMIT).copies).toBe(copies)
    }
  })

  it('accepts ids of 1 to 128 characters of A-Z a-z 0-9 . _ : -', () => {
    for (const id of ['a', 'Z', '0', 't-1001', 'order:42.ticket_3', 'AZaz09._:-', 'x'.repeat(128)]) {
      expect(parseJob(envelope({ id, data: 'x' }), LIMIT).id).toBe(id)
    }
  })

  it('parses expiresAt in UTC (Z), with offsets, and with fractions of a second', () => {
    const at = (expiresAt: string): number | undefined => parseJob(envelope({ data: 'x', expiresAt }), LIMIT).expiresAt
    expect(at('2026-11-21T20:00:00Z')).toBe(Date.UTC(2026, 10, 21, 20, 0, 0))
    expect(at('2026-11-21T20:00:00+01:00')).toBe(Date.UTC(2026, 10, 21, 19, 0, 0))
    expect(at('2026-11-21T20:00:00-05:30')).toBe(Date.UTC(2026, 10, 22, 1, 30, 0))
    expect(at('2026-11-21T20:00:00.250Z')).toBe(Date.UTC(2026, 10, 21, 20, 0, 0, 250))
    expect(at('2020-01-01T00:00:00Z')).toBe(Date.UTC(2020, 0, 1))
  })

  it('keeps a past expiresAt (expiry is decided when the job would print, not by the parser)', () => {
    expect(parseJob(envelope({ data: 'x', expiresAt: '2001-01-01T00:00:00Z' }), LIMIT).expiresAt).toBe(Date.UTC(2001, 0, 1))
  })

  it('takes the full envelope of the SPEC example', () => {
    const job = parseJob(envelope({ id: 't-1001', data: 'PFJDMTAsMTA+SGk8cD4=', encoding: 'base64', copies: 2, expiresAt: '2026-11-21T20:00:00Z' }), LIMIT)
    expect(job).toEqual({ kind: 'envelope', id: 't-1001', data: bytes('<RC10,10>Hi<p>'), copies: 2, expiresAt: Date.UTC(2026, 10, 21, 20) })
  })
})

describe('invalid envelopes: INVALID_JOB naming what is wrong, nothing printed', () => {
  // [why, payload, what the message must name]
  const cases: Array<[string, string, string]> = [
    ['copies 0', JSON.stringify({ data: 'x', copies: 0 }), 'copies'],
    ['copies 101', JSON.stringify({ data: 'x', copies: 101 }), 'copies'],
    ['copies -1', JSON.stringify({ data: 'x', copies: -1 }), 'copies'],
    ['copies 1.5', JSON.stringify({ data: 'x', copies: 1.5 }), 'copies'],
    ['copies as a string', JSON.stringify({ data: 'x', copies: '2' }), 'copies'],
    ['copies null', JSON.stringify({ data: 'x', copies: null }), 'copies'],
    ['empty id', JSON.stringify({ id: '', data: 'x' }), 'id'],
    ['id of 129 characters', JSON.stringify({ id: 'x'.repeat(129), data: 'x' }), 'id'],
    ['id with a space', JSON.stringify({ id: 'a b', data: 'x' }), 'id'],
    ['id with a slash', JSON.stringify({ id: 'a/b', data: 'x' }), 'id'],
    ['id with a plus', JSON.stringify({ id: 'a+b', data: 'x' }), 'id'],
    ['id with a non-ASCII letter', JSON.stringify({ id: 'café', data: 'x' }), 'id'],
    ['id as a number', JSON.stringify({ id: 5, data: 'x' }), 'id'],
    ['id null', JSON.stringify({ id: null, data: 'x' }), 'id'],
    ['data missing', JSON.stringify({ id: 'a' }), 'data'],
    ['empty object', '{}', 'data'],
    ['data as a number', JSON.stringify({ data: 5 }), 'data'],
    ['data as an array of bytes', JSON.stringify({ data: [60, 112, 62] }), 'data'],
    ['data null', JSON.stringify({ data: null }), 'data'],
    ['empty data', JSON.stringify({ data: '' }), 'data'],
    ['empty base64 data', JSON.stringify({ data: '', encoding: 'base64' }), 'data'],
    ['unknown encoding', JSON.stringify({ data: 'x', encoding: 'hex' }), 'encoding'],
    ['encoding in another case', JSON.stringify({ data: 'x', encoding: 'UTF8' }), 'encoding'],
    ['encoding null', JSON.stringify({ data: 'x', encoding: null }), 'encoding'],
    ['expiresAt without a time zone', JSON.stringify({ data: 'x', expiresAt: '2026-11-21T20:00:00' }), 'expiresAt'],
    ['expiresAt as a date only', JSON.stringify({ data: 'x', expiresAt: '2026-11-21' }), 'expiresAt'],
    ['expiresAt in words', JSON.stringify({ data: 'x', expiresAt: 'tomorrow' }), 'expiresAt'],
    ['expiresAt on a day that does not exist', JSON.stringify({ data: 'x', expiresAt: '2026-02-30T00:00:00Z' }), 'expiresAt'],
    ['expiresAt in month 13', JSON.stringify({ data: 'x', expiresAt: '2026-13-01T00:00:00Z' }), 'expiresAt'],
    ['expiresAt as epoch milliseconds', JSON.stringify({ data: 'x', expiresAt: 1795291200000 }), 'expiresAt'],
    ['an unknown key', JSON.stringify({ data: 'x', priority: 1 }), 'priority'],
    ['a misspelt key', JSON.stringify({ data: 'x', copy: 2 }), 'copy'],
    ['a __proto__ key', '{"data":"x","__proto__":{"copies":5}}', '__proto__'],
    ['a constructor key', '{"data":"x","constructor":1}', 'constructor'],
    ['invalid base64 characters', JSON.stringify({ data: '!!!!', encoding: 'base64' }), 'base64'],
    ['base64 without padding', JSON.stringify({ data: 'eA', encoding: 'base64' }), 'base64'],
    ['base64 with a newline', JSON.stringify({ data: 'eA==\n', encoding: 'base64' }), 'base64'],
    ['base64url alphabet', JSON.stringify({ data: 'eA-_', encoding: 'base64' }), 'base64'],
    ['base64 of padding only', JSON.stringify({ data: '====', encoding: 'base64' }), 'base64'],
    ['utf8 data with a lone surrogate', '{"data":"x\\ud800y"}', 'data']
  ]

  it.each(cases)('refuses %s', (_why, payload, field) => {
    const error = expectRefused(payload, 'INVALID_JOB')
    expect(error.message).toContain(field)
  })

  it('reports every problem of an envelope at once', () => {
    const error = expectRefused(JSON.stringify({ id: 'a b', data: 5, copies: 0, extra: true }), 'INVALID_JOB')
    for (const field of ['id', 'data', 'copies', 'extra']) expect(error.message).toContain(field)
  })

  it('refuses invalid JSON, saying so', () => {
    expectRefused('{"id": "bad-2", "data": ', 'INVALID_JOB', /not valid JSON/)
    expectRefused('{data: "x"}', 'INVALID_JOB', /not valid JSON/)
    expectRefused("{'data': 'x'}", 'INVALID_JOB', /not valid JSON/)
  })

  it('refuses an envelope followed by anything else', () => {
    expectRefused('{"data":"x<p>"} <p>', 'INVALID_JOB', /not valid JSON/)
    expectRefused('{"data":"a"}{"data":"b"}', 'INVALID_JOB', /not valid JSON/)
  })

  it('refuses an envelope that is not valid UTF-8 instead of printing U+FFFD in place of its bytes', () => {
    const latin1 = Buffer.concat([bytes('{"data":"Caf'), Buffer.from([0xe9]), bytes('<p>"}')])
    expectRefused(latin1, 'INVALID_JOB', /UTF-8/)
  })

  it('refuses an empty payload and a blank one', () => {
    expectRefused(Buffer.alloc(0), 'INVALID_JOB', /empty/)
    expectRefused(' \t\r\n ', 'INVALID_JOB', /empty/)
  })
})

describe('size limits: refused whole with JOB_TOO_LARGE, never cut', () => {
  it('accepts a raw job of exactly the limit and refuses one byte more', () => {
    const exact = Buffer.alloc(LIMIT, 0x41)
    expect(parseJob(exact, LIMIT).data.length).toBe(LIMIT)
    const over = Buffer.alloc(LIMIT + 1, 0x41)
    const error = expectRefused(over, 'JOB_TOO_LARGE', String(LIMIT + 1), String(LIMIT))
    expect(error.code).toBe('JOB_TOO_LARGE')
  })

  it('accepts base64 data decoding to exactly the limit and refuses one byte more', () => {
    const exact = Buffer.alloc(LIMIT, 0xff)
    const job = parseJob(envelope({ data: exact.toString('base64'), encoding: 'base64' }), LIMIT)
    expect(job.data.equals(exact)).toBe(true)
    expectRefused(envelope({ data: Buffer.alloc(LIMIT + 1).toString('base64'), encoding: 'base64' }), 'JOB_TOO_LARGE', String(LIMIT + 1))
  })

  it('counts utf8 data in bytes, not characters', () => {
    const exact = 'é'.repeat(LIMIT / 2) // 2 bytes each
    expect(parseJob(envelope({ data: exact }), LIMIT).data.length).toBe(LIMIT)
    expectRefused(envelope({ data: exact + 'x' }), 'JOB_TOO_LARGE', String(LIMIT + 1))
  })

  it('refuses an envelope larger than the largest payload before trying to parse it', () => {
    const huge = Buffer.concat([bytes('{'), Buffer.alloc(maxPayloadBytes(LIMIT), 0x20)])
    expectRefused(huge, 'JOB_TOO_LARGE')
  })

  it('checks base64 of a configured limit of several MiB without overflowing the stack', () => {
    const max = 8 * 1024 * 1024
    const data = Buffer.alloc(max, 0xa5)
    expect(parseJob(envelope({ data: data.toString('base64'), encoding: 'base64' }), max).data.equals(data)).toBe(true)
    const broken = data.toString('base64').slice(0, -1) + '!'
    expect(refusal(envelope({ data: broken, encoding: 'base64' }), max).code).toBe('INVALID_JOB')
  })

  it('applies the limit to one copy: data at the limit with 100 copies is accepted whole', () => {
    const job = parseJob(envelope({ data: 'y'.repeat(LIMIT), copies: 100 }), LIMIT)
    expect(job.data.length).toBe(LIMIT)
    expect(job.copies).toBe(100)
  })

  it('takes a job of the default 1 MiB limit, raw and as a base64 envelope, and refuses 1 MiB + 1', () => {
    const mib = Buffer.alloc(DEFAULT_MAX_JOB_BYTES, 0x7a)
    expect(parseJob(mib, DEFAULT_MAX_JOB_BYTES).data.equals(mib)).toBe(true)
    const payload = envelope({ id: 'big-1', data: mib.toString('base64'), encoding: 'base64', copies: 100 })
    expect(parseJob(payload, DEFAULT_MAX_JOB_BYTES).data.equals(mib)).toBe(true)
    expect(refusal(Buffer.alloc(DEFAULT_MAX_JOB_BYTES + 1, 0x7a), DEFAULT_MAX_JOB_BYTES).code).toBe('JOB_TOO_LARGE')
    const overEnvelope = envelope({ data: Buffer.alloc(DEFAULT_MAX_JOB_BYTES + 1).toString('base64'), encoding: 'base64' })
    expect(refusal(overEnvelope, DEFAULT_MAX_JOB_BYTES).code).toBe('JOB_TOO_LARGE')
  })
})

describe('peekJobId: the client id of a payload, for error reports', () => {
  it('finds the id of a valid envelope, also after leading blanks', () => {
    expect(peekJobId(envelope({ id: 't-1', data: 'x' }))).toBe('t-1')
    expect(peekJobId(bytes('\n  {"id":"t-2","data":"x"}'))).toBe('t-2')
  })

  it('finds the id of an envelope that is otherwise invalid, so its error can name the job', () => {
    const payload = envelope({ id: 'bad-1', data: 'x', copies: 0 })
    expect(refusal(payload).code).toBe('INVALID_JOB')
    expect(peekJobId(payload)).toBe('bad-1')
  })

  it('has no id for raw jobs, invalid JSON, missing or invalid ids', () => {
    expect(peekJobId(bytes('<RC0,0>{"id":"x"}<p>'))).toBeUndefined()
    expect(peekJobId(bytes('{"id":"x", '))).toBeUndefined()
    expect(peekJobId(envelope({ data: 'x' }))).toBeUndefined()
    expect(peekJobId(envelope({ id: 'a b', data: 'x' }))).toBeUndefined()
    expect(peekJobId(envelope({ id: 42, data: 'x' }))).toBeUndefined()
    expect(peekJobId(envelope({ id: 'x'.repeat(129), data: 'x' }))).toBeUndefined()
    expect(peekJobId(Buffer.alloc(0))).toBeUndefined()
  })
})

describe('properties', () => {
  const blank = fc.constantFrom(...BLANKS)
  const notBlankNorBrace = fc.integer({ min: 0, max: 255 }).filter((b) => !BLANKS.includes(b) && b !== OPEN_BRACE)

  it('any bytes whose first non-blank byte is not "{" parse as raw with identical bytes', () => {
    fc.assert(fc.property(
      fc.array(blank, { maxLength: 8 }), notBlankNorBrace, fc.uint8Array({ maxLength: 600 }),
      (prefix, first, rest) => {
        const payload = Buffer.concat([Buffer.from(prefix), Buffer.from([first]), rest])
        const job = parseJob(payload, LIMIT)
        expect(job.kind).toBe('raw')
        expect(job.copies).toBe(1)
        expect(job.data.equals(payload)).toBe(true)
      }
    ))
  })

  it('any bytes round-trip exactly through a base64 envelope, with any valid id and copies', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 1, maxLength: LIMIT }),
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
      fc.integer({ min: 1, max: 100 }),
      (data, id, copies) => {
        const job = parseJob(envelope({ id, data: Buffer.from(data).toString('base64'), encoding: 'base64', copies }), LIMIT)
        expect(job.kind).toBe('envelope')
        expect(job.id).toBe(id)
        expect(job.copies).toBe(copies)
        expect(job.data.equals(Buffer.from(data))).toBe(true)
      }
    ))
  })

  it('any well-formed text round-trips exactly through a utf8 envelope', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }), (text) => {
      const job = parseJob(envelope({ data: text }), 4 * 200)
      expect(job.data.equals(Buffer.from(text, 'utf8'))).toBe(true)
    }))
  })

  it('any payload either parses to a job within the limits or throws a PrintwireError, never anything else', () => {
    const payloads = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }).map((s) => bytes(s)),
      fc.string({ maxLength: 300 }).map((s) => bytes('{' + s)),
      fc.jsonValue().map((v) => bytes(JSON.stringify(v) ?? '')),
      fc.record({
        id: fc.anything(), data: fc.oneof(fc.string(), fc.base64String(), fc.anything()), encoding: fc.oneof(fc.constantFrom('utf8', 'base64'), fc.anything()),
        copies: fc.oneof(fc.integer({ min: -5, max: 105 }), fc.anything()), expiresAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.anything())
      }, { requiredKeys: [] }).map((r) => bytes(JSON.stringify(r)))
    )
    fc.assert(fc.property(payloads, fc.integer({ min: 1, max: 400 }), (payload, limit) => {
      let job
      try {
        job = parseJob(payload, limit)
      } catch (error) {
        expect(error).toBeInstanceOf(PrintwireError)
        expect(['INVALID_JOB', 'JOB_TOO_LARGE']).toContain((error as PrintwireError).code)
        return
      }
      expect(job.data.length).toBeGreaterThan(0)
      expect(job.data.length).toBeLessThanOrEqual(limit)
      expect(Number.isInteger(job.copies) && job.copies >= 1 && job.copies <= 100).toBe(true)
      if (job.expiresAt !== undefined) expect(Number.isFinite(job.expiresAt)).toBe(true)
      if (job.kind === 'raw') expect(job.data.equals(Buffer.from(payload))).toBe(true)
    }), { numRuns: 2000 })
  })
})
