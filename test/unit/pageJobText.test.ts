/**
 * The page's editor text ↔ job bytes (web/page/jobText.ts): UTF-8 as typed, except the # bytes after `<G#>`, one
 * character a byte; and each byte's place in the text, for the lint findings' selections.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { jobBytes, jobData, jobText } from '../../web/page/jobText.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('the page\'s job bytes', () => {
  it('are the text as UTF-8 when it has no graphics', () => {
    for (const text of ['', '<RC10,10><F3>Hello<p>', 'Café €5 ✓ 𝄞 <G>x<Gx>y<p>', '<RC1,1>\n\r\n<q>']) {
      expect(jobBytes(text).bytes, text).toEqual(utf8(text))
    }
  })

  it('take the # characters after <G#> as one byte each, then UTF-8 again', () => {
    const text = '<G3>\u0000\u00ff\u0080é<p>'
    expect([...jobBytes(text).bytes]).toEqual([...utf8('<G3>'), 0x00, 0xff, 0x80, 0xc3, 0xa9, ...utf8('<p>')])
    // A character above U+00FF in graphics data has no single byte: its UTF-8 bytes count toward #.
    expect([...jobBytes('<G2>€x').bytes]).toEqual([...utf8('<G2>€'), 0x78])
    // Graphics data is never read as a command: a "<G1>" inside it is data.
    expect([...jobBytes('<G4><G1>é').bytes]).toEqual([...utf8('<G4><G1>'), 0xc3, 0xa9])
  })

  it('come back from the example logo ticket\'s bytes byte for byte, through the editor\'s text', () => {
    const file = new Uint8Array(readFileSync(path.join(ROOT, 'examples/tickets/logo-graphics.fgl')))
    const text = jobText(file)
    expect(jobBytes(text).bytes).toEqual(file)
    // Its graphics bytes above 0x7F are single characters in the text, not UTF-8 sequences or U+FFFD.
    expect(text).not.toContain('\ufffd')
    expect(text.length).toBe(file.length)
    for (const name of ['concert-qr', 'parking-code128']) {
      const bytes = new Uint8Array(readFileSync(path.join(ROOT, `examples/tickets/${name}.fgl`)))
      expect(jobText(bytes)).toBe(new TextDecoder().decode(bytes))
    }
  })

  it('a job that ends inside graphics data keeps what there is', () => {
    const bytes = new Uint8Array([...utf8('<G9>'), 0xfe, 0x01])
    expect(jobText(bytes)).toBe('<G9>\u00fe\u0001')
    expect(jobBytes(jobText(bytes)).bytes).toEqual(bytes)
  })

  it('map each byte offset to its character in the text', () => {
    const text = 'é€<G2>\u00ff\u0001𝄞<p>'
    const { bytes, charAt } = jobBytes(text)
    // é: bytes 0-1, €: 2-4, <G2>: 5-8, ÿ: 9, \u0001: 10, 𝄞: 11-14 (two UTF-16 units), <p>: 15-17.
    expect(bytes.length).toBe(18)
    expect([0, 1, 2, 4, 5, 8, 9, 10, 11, 14, 15, 17, 18].map(charAt)).toEqual([0, 0, 1, 1, 2, 5, 6, 7, 8, 8, 10, 12, 13])
    expect(charAt(-5)).toBe(0)
    expect(charAt(1000)).toBe(text.length)
  })
})

describe('what the page prints', () => {
  it('is the text when its bytes are its UTF-8, the bytes when graphics data differ', () => {
    expect(jobData('<RC1,1>Café<p>')).toBe('<RC1,1>Café<p>')
    expect(jobData('<G2>AB<p>')).toBe('<G2>AB<p>')
    expect(jobData('<G1>\u00ff<p>')).toEqual(new Uint8Array([...new TextEncoder().encode('<G1>'), 0xff, ...new TextEncoder().encode('<p>')]))
  })
})
