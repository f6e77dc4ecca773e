/** fgl/svg.ts: SVG snapshots of the corpus, and the drawing rules a snapshot alone would not pin down. */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { renderJob } from '../../fgl/index.ts'
import { ROOT } from '../../harness/processes.ts'

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'fgl')
const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0))
const svgOf = (text: string): string => renderJob(bytes(text)).svgs[0] ?? ''

describe('SVG of the corpus', () => {
  const files = [...readdirSync(FIXTURES).filter((f) => f.endsWith('.fgl')).map((f) => path.join(FIXTURES, f)), path.join(ROOT, 'examples', 'tickets', 'concert-qr.fgl')]
  for (const file of files) {
    it(`matches its snapshot: ${path.basename(file)}`, async () => {
      const { svgs } = renderJob(readFileSync(file))
      for (const [i, svg] of svgs.entries()) {
        await expect(svg + '\n').toMatchFileSnapshot(path.join(FIXTURES, 'svg', `${path.basename(file, '.fgl')}-${i + 1}.svg`))
      }
    })
  }
})

describe('ticketSvg', () => {
  it('is the printable area, one unit a dot, white, with an accessible name', () => {
    const svg = svgOf('<p>')
    expect(svg).toContain('width="1050" height="384" viewBox="0 0 1050 384" role="img"')
    expect(svg).toContain('<title>Ticket 1 preview</title>')
  })

  it('escapes text and fixes its width to the cells', () => {
    expect(svgOf('<RC0,0><F3>a&b"c\'d<p>')).toContain('textLength="119" lengthAdjust="spacingAndGlyphs" xml:space="preserve" fill="#000">a&amp;b&quot;c&apos;d</text>')
    expect(svgOf('<QR>{x}<CTR99>~<&>~<p>')).toContain('>&lt;&amp;&gt;</text>')
  })

  it('draws <G#> bytes as columns of 8 dots, the high bit on top', () => {
    // 0xC1 = 1100 0001: dots 0-1 and 7 of column 40; 0x80: dot 0 of column 41.
    expect(svgOf('<RC16,40><G2>\xc1\x80<p>')).toContain('<path d="M40 16h1v2h-1zM40 23h1v1h-1zM41 16h1v1h-1z"/>')
    // Turned a quarter (<RR>): columns go down the rows, the top dot to the right, dots extending left.
    expect(svgOf('<RC16,40><RR><G2>\x80\xc0<p>')).toContain('<path d="M39 16h1v1h-1zM38 17h2v1h-2z"/>')
  })

  it('draws only the part of a huge graphics block that lies on the ticket', () => {
    const job = new Uint8Array(1 << 20).fill(0xff)
    job.set(bytes('<RC0,0><G1048000>'))
    const svg = renderJob(job).svgs[0] ?? ''
    expect(svg.match(/M\d+ 0h1v8h-1z/g)).toHaveLength(1050)
  })

  it('draws inverse text white on a black cell, and rotations as a turn about the position', () => {
    expect(svgOf('<RC5,6><EI>A<p>')).toMatch(/<g transform="translate\(6 5\)"><rect width="17" height="31"\/><text [^>]*fill="#fff">A<\/text><\/g>/)
    expect(svgOf('<RC5,6><RL>A<p>')).toContain('<g transform="translate(6 5) rotate(270)">')
  })

  it('draws barcode bars X dots a module, as the encoder gives them', () => {
    const job = renderJob(bytes('<RC0,0><X3><OL2>^A^<p>'))
    const element = job.tickets[0]?.elements[0]
    expect(element?.kind).toBe('barcode')
    const bars = [...(job.svgs[0] ?? '').matchAll(/M(\d+) 0h(\d+)v16/g)].map((m) => Number(m[2]) / 3)
    const widths = element?.kind === 'barcode' ? element.widths.filter((_, i) => i % 2 === 0) : []
    expect(bars).toEqual(widths)
  })
})
