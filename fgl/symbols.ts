/**
 * Barcodes and QR codes encoded by bwip-js (Barcode Writer in Pure PostScript, in JavaScript), never by hand:
 * its `raw` output gives the module pattern, which the layout scales to the printer's dots.
 */
import bwipjs from 'bwip-js/browser'
import type { QrEcc, Symbology } from './commands.ts'

export interface LinearPattern {
  /** Widths in modules, alternating bar, space, bar, … (first and last are bars). */
  widths: number[]
  /** Total modules. */
  modules: number
}

export interface QrMatrix {
  /** Modules per side. */
  size: number
  /** size × size, row by row; 1 = dark. */
  dark: Uint8Array
}

const BCID: Record<Symbology, string> = { code128: 'code128', code39: 'code39', ean13: 'ean13' }

/** The pattern of `data` in `symbology`, or a message saying why it cannot be encoded. */
export function encodeLinear (symbology: Symbology, data: string): LinearPattern | string {
  if (data === '') return 'no data'
  try {
    const raw = bwipjs.raw({ bcid: BCID[symbology], text: data }) as Array<{ sbs?: number[] }>
    const widths = raw[0]?.sbs
    if (widths === undefined || widths.length === 0) return 'the encoder returned no bars'
    return { widths: [...widths], modules: widths.reduce((sum, w) => sum + w, 0) }
  } catch (error) {
    return encoderMessage(error)
  }
}

/** The QR code of `data` at error correction `ecc`, or a message saying why it cannot be encoded. */
export function encodeQr (data: string, ecc: QrEcc): QrMatrix | string {
  if (data === '') return 'no data'
  try {
    const options = { bcid: 'qrcode', text: data, eclevel: ecc }
    const raw = bwipjs.raw(options) as Array<{ pixs?: number[], pixx?: number, pixy?: number }>
    const first = raw[0]
    if (first?.pixs === undefined || first.pixx === undefined || first.pixx !== first.pixy) return 'the encoder returned no matrix'
    return { size: first.pixx, dark: Uint8Array.from(first.pixs) }
  } catch (error) {
    return encoderMessage(error)
  }
}

/** bwip-js's errors read `Error: bwipp.ean13badLength#6878: EAN-13 must be 12 or 13 digits`: keep the sentence. */
function encoderMessage (error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  const sentence = /:\s*([^:]+)$/.exec(text)?.[1]
  return (sentence ?? text).trim()
}
