/**
 * The protocol module (SPEC "Topics", "Results", error catalogue, limits) and the Boca status table
 * (BOCA.md "Status bytes").
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { allStatuses, decodeStatusByte, hex, hexDump, STATUS, type StatusKind } from '../../boca/status.ts'
import {
  anyPrinterTopic, cancelTopic, DEFAULT_MAX_JOB_BYTES, DEFAULT_TOPIC_PREFIX, ERROR_CODES, errorsTopic, isErrorCode, isValidPrinterId,
  JOB_ID_PATTERN, jobsTopic, MAX_COPIES, maxPayloadBytes, MIN_COPIES, parseJob, parsePrinterTopic, PRINTER_TOPIC_KINDS,
  printerTopic, PrintwireError, readCancelRequest, readJobOutcome, readPrinterStatus, responsesTopic, SERVER_TIME_TOPIC, statusTopic,
  TOPIC_PREFIX_PATTERN
} from '../../protocol/index.ts'

const validId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)

describe('topics', () => {
  it('builds the five printer topics and the server time topic of SPEC "Topics"', () => {
    expect(DEFAULT_TOPIC_PREFIX).toBe('printers')
    expect(jobsTopic('printers', 'lobby')).toBe('printers/lobby/jobs')
    expect(responsesTopic('printers', 'lobby')).toBe('printers/lobby/responses')
    expect(errorsTopic('printers', 'lobby')).toBe('printers/lobby/errors')
    expect(statusTopic('printers', 'lobby')).toBe('printers/lobby/status')
    expect(cancelTopic('printers', 'lobby')).toBe('printers/lobby/cancel')
    expect(printerTopic('printers', 'bar', 'jobs')).toBe('printers/bar/jobs')
    expect(anyPrinterTopic('printers', 'status')).toBe('printers/+/status')
    expect(SERVER_TIME_TOPIC).toBe('server/time')
  })

  it('builds topics under a configured prefix of several levels', () => {
    expect(jobsTopic('venue-1/printers', 'lobby')).toBe('venue-1/printers/lobby/jobs')
    expect(anyPrinterTopic('venue-1/printers', 'errors')).toBe('venue-1/printers/+/errors')
  })

  it('has exactly the five kinds (SPEC "Topics", and "No relay, cancel")', () => {
    expect([...PRINTER_TOPIC_KINDS].sort()).toEqual(['cancel', 'errors', 'jobs', 'responses', 'status'])
  })

  it('parses each of the five kinds', () => {
    for (const kind of ['jobs', 'responses', 'errors', 'status', 'cancel'] as const) {
      expect(parsePrinterTopic('printers', `printers/lobby/${kind}`)).toEqual({ printerId: 'lobby', kind })
    }
    expect(parsePrinterTopic('venue/printers', 'venue/printers/bar_2/status')).toEqual({ printerId: 'bar_2', kind: 'status' })
  })

  it('accepts ids of 1 to 64 characters of A-Z a-z 0-9 _ - and refuses 65', () => {
    for (const id of ['a', 'Z', '9', '_', '-', 'Lobby_Front-2', 'x'.repeat(64)]) {
      expect(isValidPrinterId(id), id).toBe(true)
      expect(parsePrinterTopic('printers', `printers/${id}/jobs`)).toEqual({ printerId: id, kind: 'jobs' })
    }
    expect(isValidPrinterId('x'.repeat(65))).toBe(false)
    expect(parsePrinterTopic('printers', `printers/${'x'.repeat(65)}/jobs`)).toBeNull()
  })

  it('refuses ids with other characters', () => {
    for (const id of ['', 'a.b', 'a b', 'a:b', 'café', 'a$', '+', '#', 'a\u0000b']) {
      expect(isValidPrinterId(id), JSON.stringify(id)).toBe(false)
      expect(parsePrinterTopic('printers', `printers/${id}/jobs`), JSON.stringify(id)).toBeNull()
    }
  })

  it('refuses extra or missing levels, wildcards, other prefixes and other kinds', () => {
    const refused = [
      'printers/lobby/jobs/extra', 'printers/a/b/jobs', 'printers/lobby/jobs/', 'printers/lobby', 'printers/jobs', 'printers/',
      'printers', 'printers//jobs', 'printers/+/jobs', 'printers/lobby/+', 'printers/#', 'printers/lobby/#', '+/lobby/jobs',
      '#', 'other/lobby/jobs', 'printersx/lobby/jobs', 'printer/lobby/jobs', '/printers/lobby/jobs', 'x/printers/lobby/jobs',
      'PRINTERS/lobby/jobs', 'printers/lobby/JOBS', 'printers/lobby/job', 'printers/lobby/response', 'printers/lobby/time',
      'server/time', '$SYS/printers/lobby/jobs', 'printers/lobby/jobs\u0000'
    ]
    for (const topic of refused) expect(parsePrinterTopic('printers', topic), topic).toBeNull()
    expect(parsePrinterTopic('venue/printers', 'printers/lobby/jobs')).toBeNull()
    expect(parsePrinterTopic('venue/printers', 'venue/lobby/jobs')).toBeNull()
  })

  it('parses what it builds, for any valid id and kind', () => {
    fc.assert(fc.property(validId, fc.constantFrom(...PRINTER_TOPIC_KINDS), fc.constantFrom('printers', 'a/b', 'venue-1/printers'), (id, kind, prefix) => {
      expect(parsePrinterTopic(prefix, printerTopic(prefix, id, kind))).toEqual({ printerId: id, kind })
    }))
  })

  it('never parses a topic with a wildcard or a fourth level', () => {
    fc.assert(fc.property(validId, fc.constantFrom(...PRINTER_TOPIC_KINDS), fc.string({ maxLength: 10 }), (id, kind, extra) => {
      expect(parsePrinterTopic('printers', `printers/${id}/${kind}/${extra}`)).toBeNull()
      expect(parsePrinterTopic('printers', `printers/${id}+/${kind}`)).toBeNull()
      expect(parsePrinterTopic('printers', `printers/${id}/${kind}#`)).toBeNull()
    }))
  })

  it('validates topic prefixes: MQTT levels without wildcards, empty levels or a $ start', () => {
    for (const prefix of ['printers', 'venue/printers', 'a/b/c', 'my printers']) expect(TOPIC_PREFIX_PATTERN.test(prefix), prefix).toBe(true)
    for (const prefix of ['', '/', '/printers', 'printers/', 'a//b', 'a/+', '+', '#', 'a/#', '$SYS', 'a\u0000b']) {
      expect(TOPIC_PREFIX_PATTERN.test(prefix), JSON.stringify(prefix)).toBe(false)
    }
  })
})

describe('payload readers: they do not trust what they receive', () => {
  const status = { printerId: 'lobby', state: 'online', relayId: 'relay-1', at: '2026-11-21T20:00:00.000Z' }
  const result = {
    jobId: 't-1', printerId: 'lobby', status: 'printed', bytes: 10, durationMs: 120,
    printer: { acks: 1, expectedAcks: 1, statusBytes: ['0x06'], condition: 'ticket-ack' }, at: '2026-11-21T20:00:00.000Z'
  }
  const error = { jobId: 't-1', printerId: 'lobby', code: 'PRINTER_UNREACHABLE', message: 'connect ECONNREFUSED', retryable: true, at: '2026-11-21T20:00:00.000Z' }

  it('reads a valid status, with and without detail, in each state', () => {
    for (const state of ['online', 'offline', 'unreachable', 'error']) {
      expect(readPrinterStatus(JSON.stringify({ ...status, state }))).toEqual({ ...status, state })
    }
    expect(readPrinterStatus(JSON.stringify({ ...status, state: 'error', detail: 'out of paper' }))?.detail).toBe('out of paper')
  })

  it('refuses malformed statuses', () => {
    const { printerId: _p, ...noPrinter } = status
    const { relayId: _r, ...noRelay } = status
    const { at: _a, ...noAt } = status
    const { state: _s, ...noState } = status
    const malformed = [
      '', 'online', '{', 'null', '[]', '5', '"online"', 'true', JSON.stringify([status]),
      JSON.stringify(noPrinter), JSON.stringify(noRelay), JSON.stringify(noAt), JSON.stringify(noState),
      JSON.stringify({ ...status, state: 'sleeping' }), JSON.stringify({ ...status, state: 'ONLINE' }),
      JSON.stringify({ ...status, state: 1 }), JSON.stringify({ ...status, printerId: 7 }),
      JSON.stringify({ ...status, relayId: null }), JSON.stringify({ ...status, at: 0 }),
      JSON.stringify({ ...status, detail: 42 })
    ]
    for (const payload of malformed) expect(readPrinterStatus(payload), payload).toBeNull()
  })

  it('reads a valid result and a valid error, with or without a job id', () => {
    expect(readJobOutcome(JSON.stringify(result))).toEqual(result)
    expect(readJobOutcome(JSON.stringify({ ...result, status: 'sent' }))).toEqual({ ...result, status: 'sent' })
    expect(readJobOutcome(JSON.stringify(error))).toEqual(error)
    const { jobId: _j, ...printerError } = error
    expect(readJobOutcome(JSON.stringify(printerError))).toEqual(printerError)
  })

  it('refuses malformed results and errors', () => {
    const { printerId: _p, ...noPrinter } = result
    const { jobId: _j, ...resultWithoutJob } = result
    const { message: _m, ...errorWithoutMessage } = error
    const { retryable: _r, ...errorWithoutRetryable } = error
    const malformed = [
      '', '{', 'null', '[]', '"printed"', '12', JSON.stringify([result]),
      JSON.stringify(noPrinter), JSON.stringify({ ...result, printerId: 1 }), JSON.stringify({ printerId: 'lobby' }),
      JSON.stringify(resultWithoutJob), JSON.stringify({ ...result, jobId: 5 }),
      JSON.stringify({ ...result, status: 'bogus' }), JSON.stringify({ ...result, status: 'PRINTED' }), JSON.stringify({ ...result, status: true }),
      JSON.stringify(errorWithoutMessage), JSON.stringify({ ...error, code: 3 }), JSON.stringify({ ...error, message: null }),
      JSON.stringify(errorWithoutRetryable), JSON.stringify({ ...error, retryable: 'yes' }), JSON.stringify({ ...error, jobId: 42 })
    ]
    for (const payload of malformed) expect(readJobOutcome(payload), payload).toBeNull()
  })

  it('reads a cancel request\'s job id, and says what is wrong with anything else', () => {
    expect(readCancelRequest('{"jobId":"t-1001"}')).toEqual({ jobId: 't-1001' })
    // Other fields are ignored (a later version may add some).
    expect(readCancelRequest('{"jobId":"a.b:c_d-1","reason":"refund"}')).toEqual({ jobId: 'a.b:c_d-1' })
    const refused: Array<[string, RegExp]> = [
      ['', /not JSON/], ['t-1001', /not JSON/], ['{', /not JSON/], ['null', /not a JSON object/], ['["t-1"]', /not a JSON object/],
      ['{}', /"jobId" is missing/], ['{"id":"t-1"}', /"jobId" is missing/], ['{"jobId":7}', /"jobId" is missing or not a string/],
      ['{"jobId":""}', /not a job id/], ['{"jobId":"a b"}', /not a job id/], [JSON.stringify({ jobId: 'x'.repeat(129) }), /not a job id/]
    ]
    for (const [payload, why] of refused) {
      const read = readCancelRequest(payload)
      expect('invalid' in read ? read.invalid : `read as ${JSON.stringify(read)}`, payload).toMatch(why)
    }
  })

  it('never throws, whatever the payload', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (payload) => {
      expect(() => readPrinterStatus(payload)).not.toThrow()
      expect(() => readJobOutcome(payload)).not.toThrow()
      expect(() => readCancelRequest(payload)).not.toThrow()
    }))
  })
})

describe('error codes', () => {
  const SPEC_CODES = ['INVALID_JOB', 'JOB_TOO_LARGE', 'JOB_EXPIRED', 'PRINTER_UNREACHABLE', 'PRINTER_TIMEOUT', 'PRINTER_ERROR', 'UNCERTAIN', 'NO_RELAY', 'JOB_CANCELLED']
  /** Added for behaviour SPEC does not describe (issue #10: a relay's full disk, a relay's queue limits); README lists them. */
  const ADDED_CODES = ['RELAY_DISK_FULL', 'QUEUE_FULL']

  it('are the codes of SPEC "Results" and "No relay, cancel", and the ones added for new behaviour', () => {
    expect(Object.keys(ERROR_CODES).sort()).toEqual([...SPEC_CODES, ...ADDED_CODES].sort())
    for (const code of [...SPEC_CODES, ...ADDED_CODES]) expect(isErrorCode(code), code).toBe(true)
  })

  it('recognise nothing else, not even inherited property names', () => {
    for (const code of ['', 'invalid_job', 'TIMEOUT', 'ERROR', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(isErrorCode(code), code).toBe(false)
    }
  })

  it('say which errors are worth waiting for: the printer ones and a relay\'s full disk (the job is still held); never UNCERTAIN (no silent reprint) nor QUEUE_FULL (refused)', () => {
    const retryable = Object.entries(ERROR_CODES).filter(([, entry]) => entry.retryable).map(([code]) => code).sort()
    expect(retryable).toEqual(['PRINTER_ERROR', 'PRINTER_TIMEOUT', 'PRINTER_UNREACHABLE', 'RELAY_DISK_FULL'])
  })

  it('PrintwireError carries its code, the catalogue\'s retryable, a message and a cause', () => {
    const cause = new Error('ECONNREFUSED')
    const error = new PrintwireError('PRINTER_UNREACHABLE', 'printer lobby is unreachable', { cause })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('PrintwireError')
    expect(error.code).toBe('PRINTER_UNREACHABLE')
    expect(error.retryable).toBe(true)
    expect(error.message).toBe('printer lobby is unreachable')
    expect(error.cause).toBe(cause)
    const invalid = new PrintwireError('INVALID_JOB', 'bad')
    expect(invalid.retryable).toBe(false)
    expect(invalid.cause).toBeUndefined()
  })

  it('PrintwireError may override retryable', () => {
    expect(new PrintwireError('PRINTER_TIMEOUT', 'partly printed', { retryable: false }).retryable).toBe(false)
    expect(new PrintwireError('UNCERTAIN', 'x', { retryable: true }).retryable).toBe(true)
  })
})

describe('limits', () => {
  it('are those of SPEC "Jobs"', () => {
    expect(DEFAULT_MAX_JOB_BYTES).toBe(1048576)
    expect(MIN_COPIES).toBe(1)
    expect(MAX_COPIES).toBe(100)
    expect(JOB_ID_PATTERN.test('x'.repeat(128))).toBe(true)
    expect(JOB_ID_PATTERN.test('x'.repeat(129))).toBe(false)
    expect(JOB_ID_PATTERN.test('')).toBe(false)
  })

  /** The largest envelope a client may send for a job of `size` bytes: every optional field at its longest. */
  function largestEnvelope (size: number): Buffer {
    return Buffer.from(JSON.stringify({
      id: 'x'.repeat(128), data: Buffer.alloc(size, 0xff).toString('base64'), encoding: 'base64', copies: 100,
      expiresAt: '2026-11-21T20:00:00.123456789+14:00'
    }))
  }

  it('maxPayloadBytes holds a base64 envelope of a MAX_JOB_BYTES job, which parses', () => {
    for (const max of [1, 2, 3, 4, 1000, 65_536, DEFAULT_MAX_JOB_BYTES, 10 * DEFAULT_MAX_JOB_BYTES]) {
      const payload = largestEnvelope(max)
      expect(payload.length, `max ${max}`).toBeLessThanOrEqual(maxPayloadBytes(max))
      expect(parseJob(payload, max).data.length).toBe(max)
    }
  })

  it('maxPayloadBytes holds the envelope for any limit, and grows with it', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 200_000 }), (max) => {
      expect(largestEnvelope(max).length).toBeLessThanOrEqual(maxPayloadBytes(max))
      expect(maxPayloadBytes(max + 1)).toBeGreaterThanOrEqual(maxPayloadBytes(max))
    }), { numRuns: 50 })
  })
})

describe('Boca status bytes (BOCA.md table)', () => {
  // [byte, kind, words the operator's message must contain]
  const TABLE: Array<[number, StatusKind, RegExp]> = [
    [0x01, 'warning', /reject bin/i],
    [0x02, 'error', /reject bin/i],
    [0x03, 'error', /jam.*path 1/i],
    [0x04, 'error', /jam.*path 2/i],
    [0x05, 'info', /test/i],
    [0x06, 'ack', /printed/i],
    [0x07, 'error', /file identifier/i],
    [0x08, 'error', /invalid checksum/i],
    [0x09, 'info', /valid checksum/i],
    [0x0a, 'error', /paper.*path 1/i],
    [0x0b, 'error', /paper.*path 2/i],
    [0x0c, 'ready', /paper loaded.*path 1/i],
    [0x0d, 'ready', /paper loaded.*path 2/i],
    [0x0e, 'error', /escrow jam/i],
    [0x0f, 'warning', /low paper/i],
    [0x10, 'error', /out of paper/i],
    [0x11, 'ready', /ready|X-ON/i],
    [0x12, 'ready', /power on/i],
    [0x13, 'busy', /busy|X-OFF/i],
    [0x14, 'error', /flash/i],
    [0x15, 'error', /illegal|NAK/i],
    [0x16, 'warning', /ribbon low|ticket removed/i],
    [0x17, 'error', /ribbon out/i],
    [0x18, 'error', /paper jam/i],
    [0x19, 'error', /illegal data/i],
    [0x1a, 'error', /power-up/i],
    [0x1c, 'error', /download/i],
    [0x1d, 'error', /cutter jam/i],
    [0x1e, 'error', /stuck ticket|cutter jam/i],
    [0x1f, 'error', /stuck ticket|cutter jam/i]
  ]

  const NAMED = TABLE.map(([byte, kind, words]) => [hex(byte), byte, kind, words] as const)

  it.each(NAMED)('decodes %s as the table says', (_name, byte, kind, words) => {
    const status = decodeStatusByte(byte)
    expect(status.kind).toBe(kind)
    expect(status.message).toMatch(words)
    expect(status.condition).not.toBe('unknown')
  })

  it('has exactly the bytes of the table', () => {
    expect(allStatuses().map((s) => s.byte).sort((a, b) => a - b)).toEqual(TABLE.map(([byte]) => byte))
  })

  it('decodes the bytes the relay lives by', () => {
    expect(decodeStatusByte(0x06)).toMatchObject({ kind: 'ack', condition: 'ticket-ack' })
    const paperOut = decodeStatusByte(0x10)
    expect(paperOut.kind).toBe('error')
    expect(paperOut.message).toMatch(/paper/)
    expect(paperOut.condition).toMatch(/paper/)
    expect(decodeStatusByte(0x11).kind).toBe('ready')
    expect(decodeStatusByte(0x13).kind).toBe('busy')
    expect(decodeStatusByte(0x0f)).toMatchObject({ kind: 'warning', condition: 'low-paper' })
    expect(decodeStatusByte(0x18).condition).toBe('paper-jam')
    expect(decodeStatusByte(0x1d).condition).toBe('cutter-jam')
  })

  it('names the well-known bytes', () => {
    expect(STATUS).toEqual({ ACK: 0x06, LOW_PAPER: 0x0f, OUT_OF_PAPER: 0x10, READY: 0x11, POWER_ON: 0x12, BUSY: 0x13, NAK: 0x15, PAPER_JAM: 0x18, CUTTER_JAM: 0x1d })
  })

  it.each(NAMED)('decodes %s in ASCII status mode (+0x30) the same, only when told the printer is in that mode', (_name, byte) => {
    const plain = decodeStatusByte(byte)
    const ascii = decodeStatusByte(byte + 0x30, 'ascii')
    expect({ condition: ascii.condition, kind: ascii.kind, message: ascii.message })
      .toEqual({ condition: plain.condition, kind: plain.kind, message: plain.message })
    expect(ascii.byte).toBe(byte + 0x30)
    // Each form is foreign to the other: an HTTP server's "H" (0x48) is not an ASCII-mode paper jam to a plain printer.
    expect(decodeStatusByte(byte + 0x30).kind).toBe('foreign')
    expect(decodeStatusByte(byte, 'ascii').kind).toBe('foreign')
  })

  it('decodes bytes outside the table as foreign (not Boca status), naming the byte', () => {
    for (const [byte, encoding] of [[0x00, 'binary'], [0x1b, 'binary'], [0x20, 'binary'], [0x30, 'binary'], [0x48, 'binary'], [0x7f, 'binary'], [0xff, 'binary'], [0x4b, 'ascii'], [0x30, 'ascii'], [0x50, 'ascii'], [0x06, 'ascii']] as const) {
      const status = decodeStatusByte(byte, encoding)
      expect(status.kind, hex(byte)).toBe('foreign')
      expect(status.condition).toBe('not-boca-status')
      expect(status.byte).toBe(byte)
      expect(status.message).toContain(hex(byte))
    }
  })

  it('decodes every byte value in either form without throwing', () => {
    for (let byte = 0; byte <= 0xff; byte++) {
      for (const encoding of ['binary', 'ascii'] as const) {
        expect(['ack', 'ready', 'busy', 'warning', 'error', 'info', 'foreign']).toContain(decodeStatusByte(byte, encoding).kind)
      }
    }
  })

  it('dumps bytes as hex, cut short with the total', () => {
    expect(hexDump(Buffer.from('HTTP'))).toBe('48 54 54 50')
    expect(hexDump(Buffer.from('HTTP/1.1 400 Bad Request'), 4)).toBe('48 54 54 50 … (24 bytes)')
  })

  it('formats bytes as 0x.. in upper case', () => {
    expect(hex(0x06)).toBe('0x06')
    expect(hex(0x1d)).toBe('0x1D')
    expect(hex(0xff)).toBe('0xFF')
  })
})
