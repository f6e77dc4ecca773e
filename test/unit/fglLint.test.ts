/** fgl/lint.ts: each finding code, with its severity and position (byte offsets, line:column). */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FINDING_CODES, findingLine, hasErrors, lintFgl, renderJob, type Finding } from '../../fgl/index.ts'
import { ROOT } from '../../harness/processes.ts'

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0))
const codes = (text: string): string[] => lintFgl(bytes(text)).map((f) => f.code)
const only = (text: string): Finding => {
  const findings = lintFgl(bytes(text))
  expect(findings, JSON.stringify(findings)).toHaveLength(1)
  return findings[0] as Finding
}

describe('lintFgl', () => {
  it('finds nothing in the example tickets', () => {
    for (const name of ['demo-ticket.fgl', 'tickets/concert-qr.fgl', 'tickets/parking-code128.fgl', 'tickets/logo-graphics.fgl']) {
      expect(lintFgl(readFileSync(path.join(ROOT, 'examples', name))), name).toEqual([])
    }
  })

  it('warns of an unknown command, suggesting the upper case one when that is known', () => {
    expect(only('<RC1,1><XYZ>a<p>')).toMatchObject({ code: 'FGL_UNKNOWN_COMMAND', severity: 'warning', start: 7, end: 12, line: 1, column: 8 })
    expect(only('<rc1,1>a<p>').message).toContain('case-sensitive: <RC1,1>?')
  })

  it('reports bad or missing arguments as errors', () => {
    for (const bad of ['<RC10>', '<HW0,1>', '<HW2>', '<BX10>', '<LT0>', '<X0>', '<OL0>^A^', '<QR0>{a}', '<QR4,0,0,Z>{a}', '<TTF1>', '<G>']) {
      expect(codes(`${bad}a<p>`), bad).toEqual(['FGL_BAD_ARGUMENTS'])
    }
    expect(only('<F5>a<p>')).toMatchObject({ code: 'FGL_UNKNOWN_FONT', severity: 'warning' })
  })

  it('reports text, boxes and graphics off the ticket as warnings, barcodes and QR codes as errors', () => {
    expect(only('<RC0,1040><F3>AB<p>')).toMatchObject({ code: 'FGL_OFF_TICKET', severity: 'warning', start: 14, end: 16 })
    expect(codes('<RC370,10><BX20,20><p>')).toEqual(['FGL_OFF_TICKET'])
    expect(codes('<RC380,10><G2>\xff\xff<p>')).toEqual(['FGL_OFF_TICKET'])
    expect(only('<RC350,10><OL6>^AB^<p>')).toMatchObject({ code: 'FGL_BARCODE_OFF_TICKET', severity: 'error' })
    expect(codes('<RC300,1000><QR4>{hello}<p>')).toEqual(['FGL_BARCODE_OFF_TICKET'])
    expect(codes('<RC300,100><QR4>{hello}<p>'), 'at 200 dpi 2x5.5, 84 dots from row 300 fit').toEqual([])
  })

  it('judges off the ticket by the size and resolution given', () => {
    const job = bytes('<RC500,10><F3>A<p>')
    expect(lintFgl(job).map((f) => f.code)).toEqual(['FGL_OFF_TICKET'])
    expect(lintFgl(job, { geometry: { widthIn: 3.25, lengthIn: 5.5, dpi: 200, rows: 624, columns: 1050 } })).toEqual([])
  })

  it('reports a job without a ticket end, but not trailing line breaks or spaces', () => {
    expect(only('<RC1,1>a<p><RC1,1>b')).toMatchObject({ code: 'FGL_NO_TICKET_END', severity: 'error', start: 11, ticket: 1 })
    expect(lintFgl(bytes('<RC1,1>a<p>\r\n  \n'))).toEqual([])
  })

  it('reports unterminated and missing barcode, QR and CTR data', () => {
    expect(only('<OL6>^AB<p>')).toMatchObject({ code: 'FGL_UNTERMINATED_DATA', start: 5 })
    expect(codes('<QR>{abc')).toEqual(['FGL_NO_TICKET_END', 'FGL_UNTERMINATED_DATA'])
    expect(only('<NL6>AB<p>')).toMatchObject({ code: 'FGL_MISSING_DATA', start: 0 })
    expect(codes('<CTR100>text<p>')).toEqual(['FGL_MISSING_DATA'])
  })

  it('reports data a symbology cannot encode', () => {
    expect(only('<EL6>^12^<p>')).toMatchObject({ code: 'FGL_BAD_BARCODE_DATA', severity: 'error' })
    expect(codes('<NL6>*ab~*<p>')).toEqual(['FGL_BAD_BARCODE_DATA'])
    expect(codes('<OL6>^^<p>')).toEqual(['FGL_BAD_BARCODE_DATA'])
  })

  it('reports a <G#> count past the end of the job', () => {
    const findings = lintFgl(bytes('<RC1,1><G50>abc'))
    expect(findings.map((f) => f.code)).toEqual(['FGL_NO_TICKET_END', 'FGL_GRAPHICS_PAST_END'])
    expect(findings[1]).toMatchObject({ severity: 'error', start: 7, end: 15 })
  })

  it('warns of stray brackets, control bytes, placeholders and what is not drawn, and errs on a job ending inside a command', () => {
    expect(codes('a<b<RC1,1>c<p>')).toEqual(['FGL_STRAY_BRACKET'])
    expect(only('a\x07b<p>')).toMatchObject({ code: 'FGL_CONTROL_BYTE', start: 1, end: 2 })
    expect(codes('<LD1><p>')).toEqual(['FGL_LOGO_PLACEHOLDER'])
    expect(codes('<z>a<p>')).toEqual(['FGL_NOT_DRAWN'])
    expect(codes('a<p><RC1')).toEqual(['FGL_UNCLOSED_COMMAND'])
  })

  it('counts lines and columns from 1, columns in bytes', () => {
    const finding = only('<RC1,1>a\n<RC2,2>b\r\n  <XY>c<p>')
    expect(finding).toMatchObject({ line: 3, column: 3 })
    expect(findingLine('t.fgl', finding)).toBe('t.fgl:3:3 FGL_UNKNOWN_COMMAND warning unknown command <XY>: not drawn')
  })

  it('has a severity for each code and says whether a list has errors', () => {
    expect(Object.values(FINDING_CODES).every((s) => s === 'error' || s === 'warning')).toBe(true)
    expect(hasErrors(lintFgl(bytes('<RC1>a<p>')))).toBe(true)
    expect(hasErrors(lintFgl(bytes('<XY>a<p>')))).toBe(false)
  })

  it('never throws on any bytes: they become findings, and every finding lies within the job', () => {
    const fglish = fc.array(fc.oneof(
      fc.constantFrom('<p>', '<q>', '\x0c', '<RC10,10>', '<RR>', '<RL>', '<EI>', '<HW3,3>', '<F6>', '<OL6>', '<OP2>', '<BI>', '<NL3>', '<EL3>', '<QR>', '<QR4,0,0,H>', '<CTR50>', '<G8>', '<BX9,9>', '<LD1>', '<TTF1,12>', '^', '*', '{', '}', '~', '<', '>', 'AB', '12'),
      fc.string({ maxLength: 5 })
    ), { maxLength: 40 }).map((parts) => bytes(parts.join('').replace(/[^\x00-\xff]/g, '?')))
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), fglish), (data) => {
      const job = renderJob(data)
      for (const f of job.findings) {
        expect(f.start).toBeGreaterThanOrEqual(0)
        expect(f.end).toBeLessThanOrEqual(data.length)
        expect(f.line).toBeGreaterThanOrEqual(1)
      }
      expect(job.svgs).toHaveLength(job.tickets.length)
      for (const svg of job.svgs) expect(svg.startsWith('<svg')).toBe(true)
    }), { numRuns: 400 })
  })
})
