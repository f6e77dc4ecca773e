/**
 * fgl/layout.ts: the ticket model, element by element in dots. Golden files (test/fixtures/fgl/*.model.json) hold the
 * model of each fixture; the tests above them pin the rules one by one.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { layoutJob, ticketGeometry, type TicketElement } from '../../fgl/index.ts'
import { ROOT } from '../../harness/processes.ts'

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'fgl')
const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0))
const elements = (text: string): TicketElement[] => layoutJob(bytes(text)).tickets[0]?.elements ?? []

/** What a golden file keeps of an element: all but the bulky encodings (their sizes stay). */
function golden (element: TicketElement): Record<string, unknown> {
  const { start, end, placement, width, height, bounds } = element
  const base = { kind: element.kind, start, end, placement, width, height, bounds }
  switch (element.kind) {
    case 'text': return { ...base, text: element.text, font: element.font, ttf: element.ttf, family: element.family, emDots: Math.round(element.emDots * 100) / 100, inverse: element.inverse }
    case 'barcode': return { ...base, symbology: element.symbology, orientation: element.orientation, data: element.data, bars: Math.ceil(element.widths.length / 2), modules: element.widths.reduce((a, b) => a + b, 0), barWidth: element.barWidth, barHeight: element.barHeight, text: element.text }
    case 'qr': return { ...base, data: element.data, ecc: element.ecc, moduleDots: element.moduleDots, size: element.size }
    case 'graphics': return { ...base, bytes: element.data.length }
    default: return { ...element }
  }
}

describe('the ticket model of the corpus', () => {
  const files = [
    ...readdirSync(FIXTURES).filter((f) => f.endsWith('.fgl')).map((f) => path.join(FIXTURES, f)),
    ...readdirSync(path.join(ROOT, 'examples', 'tickets')).map((f) => path.join(ROOT, 'examples', 'tickets', f)),
    path.join(ROOT, 'examples', 'demo-ticket.fgl')
  ]
  it('has a corpus', () => expect(files.length).toBeGreaterThanOrEqual(10))
  for (const file of files) {
    it(`matches its golden model: ${path.relative(ROOT, file)}`, async () => {
      const job = layoutJob(readFileSync(file))
      const model = job.tickets.map((t) => ({ index: t.index, start: t.start, end: t.end, terminator: t.terminator, elements: t.elements.map(golden) }))
      await expect(JSON.stringify(model, null, 1) + '\n').toMatchFileSnapshot(path.join(FIXTURES, 'models', `${path.basename(file, '.fgl')}.model.json`))
    })
  }
})

describe('layout rules', () => {
  it('sizes a 2" × 5.5" ticket at 200 dpi as BOCA.md says: rows 0-383, columns 0-1049; others in proportion', () => {
    expect(ticketGeometry()).toMatchObject({ rows: 384, columns: 1050, dpi: 200 })
    expect(ticketGeometry({ widthIn: 3.25, lengthIn: 5.5 }, 300)).toMatchObject({ rows: 936, columns: 1575 })
    expect(ticketGeometry(undefined, 600)).toMatchObject({ rows: 1152, columns: 3150 })
  })

  it('places text at RC in the font cell, HW multiplying it, and moves the column past it', () => {
    const [a, b] = elements('<RC10,20><F3>AB<HW2,3>C<p>')
    expect(a).toMatchObject({ kind: 'text', text: 'AB', width: 34, height: 31, bounds: { left: 20, top: 10, right: 54, bottom: 41 } })
    expect(b).toMatchObject({ kind: 'text', text: 'C', width: 51, height: 62, placement: { x: 54, y: 10 } })
  })

  it('draws each resident font in its documented cell', () => {
    const cells: Record<number, [number, number]> = { 1: [5, 7], 2: [7, 10], 3: [17, 31], 4: [5, 9], 6: [30, 52], 7: [15, 29], 8: [18, 30], 9: [13, 20], 10: [25, 41], 11: [25, 49], 12: [46, 91], 13: [20, 40] }
    for (const [font, [w, h]] of Object.entries(cells)) {
      expect(elements(`<F${font}>X<p>`)[0], `F${font}`).toMatchObject({ width: w, height: h })
    }
  })

  it('scales the cells with the resolution (300 dpi: 1.5 times)', () => {
    const job = layoutJob(bytes('<F3>X<p>'), { geometry: ticketGeometry(undefined, 300) })
    expect(job.tickets[0]?.elements[0]).toMatchObject({ width: 26, height: 47 })
  })

  it('turns text clockwise about its position for RR, RU and RL', () => {
    const bounds = (rotation: string): unknown => elements(`<RC200,200><${rotation}><F3>AB<p>`)[0]?.bounds
    expect(bounds('NR')).toEqual({ left: 200, top: 200, right: 234, bottom: 231 })
    expect(bounds('RR')).toEqual({ left: 169, top: 200, right: 200, bottom: 234 })
    expect(bounds('RU')).toEqual({ left: 166, top: 169, right: 200, bottom: 200 })
    expect(bounds('RL')).toEqual({ left: 200, top: 166, right: 231, bottom: 200 })
  })

  it('starts every ticket from the defaults: font 3, HW1,1, NR, RC0,0, no inverse', () => {
    const job = layoutJob(bytes('<RC50,60><F6><HW2,2><RL><EI>x<p>y<q>'))
    expect(job.tickets[1]?.elements[0]).toMatchObject({ text: 'y', font: 3, width: 17, height: 31, inverse: false, placement: { x: 0, y: 0, rotation: 0 } })
  })

  it('centres CTR text in its field and moves past the field', () => {
    const [text, after] = elements('<RC0,100><CTR200>~AB~C<p>')
    expect(text).toMatchObject({ text: 'AB', placement: { x: 100 + (200 - 34) / 2 } })
    expect(after).toMatchObject({ text: 'C', placement: { x: 300 } })
  })

  it('draws boxes and lines from the current position with the line thickness', () => {
    const [box, h, v] = elements('<RC10,10><LT3><BX40,50><HX100><VX60><p>')
    expect(box).toMatchObject({ kind: 'box', width: 50, height: 40, thickness: 3 })
    expect(h).toMatchObject({ kind: 'line', width: 100, height: 3 })
    expect(v).toMatchObject({ kind: 'line', width: 3, height: 60 })
  })

  it('lays a ladder Code 128 along the text direction and a picket fence down the rows, # × 8 dots tall, X dots a module', () => {
    const [ladder] = elements('<RC10,10><X3><OL5>^AB^<p>')
    expect(ladder).toMatchObject({ kind: 'barcode', symbology: 'code128', barWidth: 3, barHeight: 40 })
    const modules = (ladder as TicketElement & { kind: 'barcode' }).widths.reduce((a, b) => a + b, 0)
    expect(modules).toBe(11 + 22 + 11 + 13) // start, A, B, check, stop
    expect(ladder?.bounds).toEqual({ left: 10, top: 10, right: 10 + modules * 3, bottom: 50 })
    const [picket] = elements('<RC10,10><X3><OP5>^AB^<p>')
    expect(picket?.bounds).toEqual({ left: 10, top: 10, right: 50, bottom: 10 + modules * 3 })
  })

  it('adds the human-readable line under a barcode for <BI>, before or after the barcode command', () => {
    for (const job of ['<BI><OL5>^AB^<p>', '<OL5><BI>^AB^<p>']) {
      expect(elements(job)[0], job).toMatchObject({ height: 40 + 4 + 20, text: { cellHeight: 20 } })
    }
    expect(elements('<OL5>^AB^<p>')[0]).not.toHaveProperty('text')
  })

  it('encodes Code 39 and EAN-13, and a QR code at the module size and error correction given', () => {
    expect(elements('<NL4>*AB1*<p>')[0]).toMatchObject({ symbology: 'code39', data: 'AB1' })
    expect(elements('<EL4>^590123412345^<p>')[0]).toMatchObject({ symbology: 'ean13', width: 95 * 2 })
    expect(elements('<RC5,5><QR3,0,0,H>{HI}<p>')[0]).toMatchObject({ kind: 'qr', ecc: 'H', moduleDots: 3, size: 21, width: 63, bounds: { left: 5, top: 5, right: 68, bottom: 68 } })
    expect(elements('<QR>{HI}<p>')[0]).toMatchObject({ ecc: 'M', moduleDots: 4 })
  })

  it('lays <G#> out one column per byte, 8 dots tall, and moves past it', () => {
    const [graphic, text] = elements('<RC16,40><G3>\xff\x81\x00Z<p>')
    expect(graphic).toMatchObject({ kind: 'graphics', width: 3, height: 8, bounds: { left: 40, top: 16, right: 43, bottom: 24 } })
    expect(text).toMatchObject({ text: 'Z', placement: { x: 43 } })
  })

  it('draws TrueType text at its point size, and a downloaded logo as a placeholder at <SP>', () => {
    expect(elements('<TTF1,36>Ab<p>')[0]).toMatchObject({ ttf: true, family: 'DejaVu Sans', emDots: 100 })
    expect(elements('<SP30,40><LD2><p>')[0]).toMatchObject({ kind: 'logo', logo: 2, placement: { x: 40, y: 30 } })
  })

  it('ignores CR and LF between commands and keeps a ticket with nothing to print out of the job', () => {
    const job = layoutJob(bytes('<RC1,1>A\r\n<RC9,9>B<p>\r\n'))
    expect(job.tickets).toHaveLength(1)
    expect(job.tickets[0]?.elements.map((e) => e.kind === 'text' ? e.text : e.kind)).toEqual(['A', 'B'])
    expect(job.findings).toEqual([])
  })
})
