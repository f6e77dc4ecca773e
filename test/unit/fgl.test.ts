import { describe, expect, it } from 'vitest'
import { countTickets, dumpTicket, FglScanner, MAX_COMMAND_BYTES, splitTickets, type TicketTerminator } from '../../boca/fgl.ts'

interface Scanned {
  tickets: Array<{ bytes: Buffer, terminator: TicketTerminator }>
  statusRequests: number
  /** Order of events: 'ticket' or 'status'. */
  events: string[]
}

function scan (chunks: Buffer[]): Scanned {
  const result: Scanned = { tickets: [], statusRequests: 0, events: [] }
  const scanner = new FglScanner({
    onTicket: (bytes, terminator) => { result.tickets.push({ bytes, terminator }); result.events.push('ticket') },
    onStatusRequest: () => { result.statusRequests++; result.events.push('status') }
  })
  for (const chunk of chunks) scanner.push(chunk)
  return result
}

/** A cheap-to-compare summary of what a scan found. */
function summary (scanned: Scanned): string[] {
  return [...scanned.tickets.map((t) => `${t.terminator}:${t.bytes.toString('hex')}`), ...scanned.events]
}

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1')

/** `<G256>` followed by every byte value once. */
function graphicsWithEveryByte (): Buffer {
  const data = Buffer.alloc(256)
  for (let i = 0; i < 256; i++) data[i] = i
  return Buffer.concat([ascii('<G256>'), data])
}

const TICKET_1 = ascii('<RC10,10><F3><HW2,2>Hello<RC60,10><QR>{https://example.test/t/1}<p>')
const TICKET_2 = Buffer.concat([ascii('<RC0,0>'), graphicsWithEveryByte(), ascii('<RC40,0><OL8>^123456^<q>')])
const TICKET_3 = ascii('<RC20,20>Form feed\x0c')
const SAMPLE_JOB = Buffer.concat([TICKET_1, ascii('<S1>'), TICKET_2, TICKET_3, ascii('<S1>')])

describe('FglScanner', () => {
  it('ends a ticket at <p> with its exact bytes', () => {
    const { tickets } = scan([TICKET_1])
    expect(tickets).toHaveLength(1)
    expect(tickets[0]?.terminator).toBe('p')
    expect(tickets[0]?.bytes.equals(TICKET_1)).toBe(true)
  })

  it('ends a ticket at <q> without a cut', () => {
    const { tickets } = scan([ascii('<RC1,1>A<q><RC1,1>B<p>')])
    expect(tickets.map((t) => [t.bytes.toString('latin1'), t.terminator])).toEqual([
      ['<RC1,1>A<q>', 'q'],
      ['<RC1,1>B<p>', 'p']
    ])
  })

  it('treats bare 0x0C like <p> and bare 0x1D like <q>', () => {
    const { tickets } = scan([ascii('A\x0cB\x1dC')])
    expect(tickets.map((t) => [t.bytes.toString('latin1'), t.terminator])).toEqual([['A\x0c', 'p'], ['B\x1d', 'q']])
  })

  it('keeps bytes after the last terminator pending', () => {
    expect(scan([ascii('A<p>B')]).tickets).toHaveLength(1)
  })

  it('skips <G#> graphics data holding every byte value 0..255', () => {
    const ticket = Buffer.concat([ascii('<RC0,0>'), graphicsWithEveryByte(), ascii('after<p>')])
    const { tickets, statusRequests } = scan([ticket])
    expect(tickets).toHaveLength(1)
    expect(tickets[0]?.bytes.equals(ticket)).toBe(true)
    expect(statusRequests).toBe(0)
  })

  it('does not end a ticket at <p>, <S1> or 0x0C inside graphics data', () => {
    const data = ascii('<p>\x0c<S1>\x1d<q><G9')
    const ticket = Buffer.concat([ascii(`<G${data.length}>`), data, ascii('<p>')])
    const { tickets, statusRequests } = scan([ticket])
    expect(tickets.map((t) => t.bytes.toString('latin1'))).toEqual([ticket.toString('latin1')])
    expect(statusRequests).toBe(0)
  })

  it('does not end a ticket at 0x0C inside a command', () => {
    const { tickets } = scan([ascii('<RC1\x0c,1>A<p>')])
    expect(tickets.map((t) => t.bytes.toString('latin1'))).toEqual(['<RC1\x0c,1>A<p>'])
  })

  it('takes <G0> as no graphics data', () => {
    expect(scan([ascii('<G0><p>')]).tickets).toHaveLength(1)
  })

  it('answers <S1> and leaves it out of the ticket bytes', () => {
    const { tickets, statusRequests, events } = scan([ascii('<S1><RC1,1>A<S1>B<p><S1>')])
    expect(statusRequests).toBe(3)
    expect(tickets.map((t) => t.bytes.toString('latin1'))).toEqual(['<RC1,1>AB<p>'])
    expect(events).toEqual(['status', 'status', 'ticket', 'status'])
  })

  it('reads a < that is not closed within the cap as text', () => {
    const text = '<' + 'x'.repeat(MAX_COMMAND_BYTES) + '\x0c'
    const { tickets } = scan([ascii(text)])
    expect(tickets.map((t) => [t.bytes.toString('latin1'), t.terminator])).toEqual([[text, 'p']])
  })

  it('accepts a command exactly at the cap', () => {
    const command = '<' + 'x'.repeat(MAX_COMMAND_BYTES - 2) + '>'
    const { tickets } = scan([ascii(command + '\x0c<p>')])
    expect(tickets.map((t) => t.bytes.toString('latin1'))).toEqual([command + '\x0c', '<p>'])
  })

  it('reads a < followed by another < as text', () => {
    const { tickets } = scan([ascii('a < b <p>')])
    expect(tickets.map((t) => t.bytes.toString('latin1'))).toEqual(['a < b <p>'])
  })

  it('gives the same tickets whatever offset the job is split at', () => {
    const whole = scan([SAMPLE_JOB])
    expect(whole.tickets.map((t) => t.terminator)).toEqual(['p', 'q', 'p'])
    expect(Buffer.concat(whole.tickets.map((t) => t.bytes)).equals(Buffer.concat([TICKET_1, TICKET_2, TICKET_3]))).toBe(true)
    expect(whole.statusRequests).toBe(2)
    for (let offset = 0; offset <= SAMPLE_JOB.length; offset++) {
      const split = scan([SAMPLE_JOB.subarray(0, offset), SAMPLE_JOB.subarray(offset)])
      expect(summary(split), `split at ${offset}`).toEqual(summary(whole))
    }
  })

  it('gives the same tickets when fed one byte at a time', () => {
    const bytes = [...SAMPLE_JOB].map((byte) => Buffer.from([byte]))
    expect(summary(scan(bytes))).toEqual(summary(scan([SAMPLE_JOB])))
  })
})

describe('countTickets', () => {
  it('counts complete tickets in a job', () => {
    expect(countTickets(SAMPLE_JOB)).toBe(3)
    expect(countTickets(ascii('no terminator'))).toBe(0)
    expect(countTickets(new Uint8Array(0))).toBe(0)
    expect(countTickets(ascii('<S1>'))).toBe(0)
  })

  it('counts a ticket in a Uint8Array view of a larger buffer', () => {
    const backing = Buffer.concat([ascii('A<p>'), TICKET_1, ascii('B<p>')])
    expect(countTickets(new Uint8Array(backing.buffer, backing.byteOffset + 4, TICKET_1.length))).toBe(1)
  })
})

describe('splitTickets', () => {
  it('cuts a job after each ticket end, every byte kept in order, bytes after the last end with the last ticket', () => {
    const job = Buffer.concat([SAMPLE_JOB, ascii('tail')])
    const { pieces, tickets } = splitTickets(job)
    expect(tickets).toBe(3)
    expect(pieces.map((p) => p.toString('latin1'))).toEqual([
      TICKET_1.toString('latin1'),
      Buffer.concat([ascii('<S1>'), TICKET_2]).toString('latin1'),
      Buffer.concat([TICKET_3, ascii('<S1>tail')]).toString('latin1')
    ])
    expect(Buffer.concat(pieces).equals(job)).toBe(true)
  })

  it('finds ends inside an abandoned command (a form feed after a stray <) and never inside graphics data', () => {
    const job = ascii('a<b\x0cc<p>')
    expect(splitTickets(job).pieces.map((p) => p.toString('latin1'))).toEqual(['a<b\x0c', 'c<p>'])
    const graphics = Buffer.concat([graphicsWithEveryByte(), ascii('<p>')])
    expect(splitTickets(graphics).pieces).toEqual([graphics])
  })

  it('gives a job without a ticket end as one piece, and no tickets', () => {
    expect(splitTickets(ascii('no end'))).toEqual({ pieces: [ascii('no end')], tickets: 0 })
  })
})

describe('dumpTicket', () => {
  it('starts a line at each <RC>, keeps text, summarises codes and shows the cut', () => {
    expect(dumpTicket(TICKET_1)).toBe('Hello\n[QR https://example.test/t/1][cut]')
  })

  it('summarises graphics and barcodes and shows no cut', () => {
    expect(dumpTicket(TICKET_2)).toBe('[graphics 256 bytes]\n[barcode 123456][no cut]')
  })

  it('shows non-printable bytes as \\xNN and bare terminators', () => {
    expect(dumpTicket(ascii('<RC1,1>caf\xe9\x01<F3>!\x0c'))).toBe('caf\\xE9\\x01![cut]')
    expect(dumpTicket(ascii('x\x1d'))).toBe('x[no cut]')
  })

  it('shows Code 128 picket fence and a < that is text', () => {
    expect(dumpTicket(ascii('<OP4>^ABC^ 1 < 2<q>'))).toBe('[barcode ABC] 1 < 2[no cut]')
  })
})
