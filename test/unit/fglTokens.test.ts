/** fgl/tokens.ts: FGL bytes → tokens with offsets, splitting tickets exactly as boca/fgl.ts (the relay) does. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { countTickets } from '../../boca/fgl.ts'
import { tokenize, type Token } from '../../fgl/tokens.ts'

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0))
const summary = (tokens: Token[]): string[] => tokens.map((t) => `${t.kind}@${t.start}-${t.end}${t.kind === 'command' ? ` ${t.name}` : ''}`)

describe('tokenize', () => {
  it('reads commands, text, fields and ticket ends with their byte offsets', () => {
    expect(summary(tokenize(bytes('<RC1,2>Hi<OL6>^AB^<p>')))).toEqual([
      'command@0-7 RC1,2', 'text@7-9', 'command@9-14 OL6', 'field@14-18', 'end@18-21'
    ])
  })

  it('never interprets <G#> data: a <p> or 0x0C inside it is graphics', () => {
    const tokens = tokenize(bytes('<G4><p>\x0c<q>x<p>'))
    expect(tokens[0]).toMatchObject({ kind: 'graphics', start: 0, end: 8, declared: 4 })
    expect([...(tokens[0] as Token & { kind: 'graphics' }).data]).toEqual([...bytes('<p>\x0c')])
    expect(summary(tokens).slice(1)).toEqual(['end@8-11', 'text@11-12', 'end@12-15'])
  })

  it('keeps graphics data short when the job ends first', () => {
    expect(tokenize(bytes('<G9>ab'))[0]).toMatchObject({ kind: 'graphics', declared: 9, end: 6 })
  })

  it('ends tickets at <p>, <q>, 0x0C and 0x1D, and sets <S1> apart', () => {
    const ends = tokenize(bytes('a<p>b<q>c\x0cd\x1d<S1>')).filter((t) => t.kind === 'end' || t.kind === 'status')
    expect(ends.map((t) => t.kind === 'end' ? t.terminator : 'status')).toEqual(['p', 'q', 'p', 'q', 'status'])
  })

  it('reads a < that closes nothing within 64 bytes, or meets another < first, as a stray bracket', () => {
    expect(summary(tokenize(bytes('a<b<c>')))).toEqual(['text@0-1', 'stray@1-2', 'text@2-3', 'command@3-6 c'])
    const long = `<${'x'.repeat(70)}>`
    expect(tokenize(bytes(long))[0]).toMatchObject({ kind: 'stray', start: 0 })
  })

  it('reads a QR field with a < inside as data, and a field the ticket ends inside as unterminated', () => {
    expect(summary(tokenize(bytes('<QR>{a<b}<p>')))).toEqual(['command@0-4 QR', 'field@4-9', 'end@9-12'])
    expect(summary(tokenize(bytes('<QR>{ab<p>}')))).toEqual(['command@0-4 QR', 'unterminated@4-5', 'text@5-7', 'end@7-10', 'text@10-11'])
    expect(summary(tokenize(bytes('<OL6>^a\x0cb^')))).toEqual(['command@0-5 OL6', 'unterminated@5-6', 'text@6-7', 'end@7-8', 'text@8-10'])
    expect(summary(tokenize(bytes('<OL6>^a<G1>^^')))).toEqual(['command@0-5 OL6', 'unterminated@5-6', 'text@6-7', 'graphics@7-12', 'text@12-13'])
  })

  it('ends at a command the job ends inside: the printer waits for the rest of it, as boca/fgl.ts does', () => {
    expect(summary(tokenize(bytes('a<p>b<RC1\x0c')))).toEqual(['text@0-1', 'end@1-4', 'text@4-5', 'open@5-10'])
  })

  it('gives a barcode its field after <BI> (<OP5><BI>^data^)', () => {
    expect(summary(tokenize(bytes('<OP5><BI>^X^')))).toEqual(['command@0-5 OP5', 'command@5-9 BI', 'field@9-12'])
  })

  it('covers every byte exactly once, for any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      let next = 0
      for (const token of tokenize(data)) {
        expect(token.start).toBe(next)
        expect(token.end).toBeGreaterThan(token.start)
        next = token.end
      }
      expect(next).toBe(data.length)
    }), { numRuns: 300 })
  })

  it('ends no ticket inside a command still open when the job ends, even in a data field (as the relay counts)', () => {
    // Found by the property below (seed 2065314225): `<QR>{<}` then 0x1D. The relay reads `<}\x1d` as a command
    // never closed, so 0x1D is no ticket end; the field was taken to close at `}` and the 0x1D to end a ticket.
    const data = Uint8Array.from([60, 81, 82, 62, 123, 60, 125, 29])
    expect(countTickets(data)).toBe(0)
    expect(tokenize(data).filter((t) => t.kind === 'end')).toEqual([])
  })

  it('finds as many ticket ends as the relay counts (boca/fgl.ts), for FGL-like random bytes', () => {
    const pieces = ['<p>', '<q>', '\x0c', '\x1d', '<G3>', '<G0>', '<OL6>', '<OL6>^', '<QR>{', '<QR>', '<BI>', '<CTR9>', '<S1>', '^', '{', '}', '~', '*', '<', '>', 'p', 'a', '9']
    const job = fc.array(fc.constantFrom(...pieces), { maxLength: 60 }).map((parts) => bytes(parts.join('')))
    fc.assert(fc.property(job, (data) => {
      const ends = tokenize(data).filter((t) => t.kind === 'end').length
      const counted = countTickets(data)
      // countTickets ignores bytes after the last end; an end token is an end either way.
      expect(ends).toBe(counted)
    }), { numRuns: 2000 })
  })
})
