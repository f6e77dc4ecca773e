/**
 * Every barcode and QR code in a rendered PNG scans to its data: the PNG bytes (fgl/png.ts, resvg) are decoded
 * back to pixels (fast-png), each symbol is cut out with a white quiet zone, and read by real decoders: jsQR for
 * QR codes, ZXing (@zxing/library) for Code 128, Code 39 and EAN-13, ladder and picket fence, at each resolution.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { BarcodeFormat, BinaryBitmap, DecodeHintType, HybridBinarizer, MultiFormatReader, RGBLuminanceSource } from '@zxing/library'
import { decode } from 'fast-png'
import jsQRModule from 'jsqr'
import { describe, expect, it } from 'vitest'
import { renderJob, ticketGeometry, type Bounds, type Dpi } from '../../fgl/index.ts'
import { svgToPng } from '../../fgl/png.ts'
import { ROOT } from '../../harness/processes.ts'

/** jsqr is CommonJS: under NodeNext its typings see the module object, at run time the default import may be the function. */
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as typeof jsQRModule.default

interface Gray { width: number, height: number, luma: Uint8ClampedArray }

function pngToGray (png: Uint8Array): Gray {
  const image = decode(png)
  const channels = image.channels
  const luma = new Uint8ClampedArray(image.width * image.height)
  for (let i = 0; i < luma.length; i++) luma[i] = Number(image.data[i * channels])
  return { width: image.width, height: image.height, luma }
}

/** The symbol's box from the ticket, on white with a quiet zone of `margin` dots all round. */
function cutOut (ticket: Gray, bounds: Bounds, margin = 30): Gray {
  const width = bounds.right - bounds.left + 2 * margin
  const height = bounds.bottom - bounds.top + 2 * margin
  const luma = new Uint8ClampedArray(width * height).fill(255)
  for (let y = Math.max(0, bounds.top); y < Math.min(ticket.height, bounds.bottom); y++) {
    for (let x = Math.max(0, bounds.left); x < Math.min(ticket.width, bounds.right); x++) {
      luma[(y - bounds.top + margin) * width + (x - bounds.left + margin)] = ticket.luma[y * ticket.width + x] as number
    }
  }
  return { width, height, luma }
}

/** The image turned a quarter: zxing-js cannot turn an RGBLuminanceSource itself, as a hand-held scanner would. */
function quarterTurn (image: Gray): Gray {
  const luma = new Uint8ClampedArray(image.luma.length)
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) luma[x * image.height + (image.height - 1 - y)] = image.luma[y * image.width + x] as number
  }
  return { width: image.height, height: image.width, luma }
}

function readQr (image: Gray): string | undefined {
  const rgba = new Uint8ClampedArray(image.width * image.height * 4)
  image.luma.forEach((v, i) => { rgba.set([v, v, v, 255], i * 4) })
  return jsQR(rgba, image.width, image.height)?.data
}

const FORMATS = { code128: BarcodeFormat.CODE_128, code39: BarcodeFormat.CODE_39, ean13: BarcodeFormat.EAN_13 }

function readLinear (image: Gray, symbology: keyof typeof FORMATS): string | undefined {
  const reader = new MultiFormatReader()
  reader.setHints(new Map<DecodeHintType, unknown>([[DecodeHintType.POSSIBLE_FORMATS, [FORMATS[symbology]]], [DecodeHintType.TRY_HARDER, true]]))
  try {
    return reader.decode(new BinaryBitmap(new HybridBinarizer(new RGBLuminanceSource(image.luma, image.width, image.height)))).getText()
  } catch {
    return undefined
  }
}

/** Renders `job` and scans every symbol on every ticket; returns [expected, read] pairs. */
function scanAll (job: Uint8Array, dpi: Dpi = 200): Array<[string, string | undefined]> {
  const rendered = renderJob(job, { geometry: ticketGeometry(undefined, dpi) })
  const pairs: Array<[string, string | undefined]> = []
  rendered.tickets.forEach((ticket, i) => {
    const gray = pngToGray(svgToPng(rendered.svgs[i] as string))
    expect(gray.width).toBe(rendered.geometry.columns)
    for (const element of ticket.elements) {
      if (element.kind === 'qr') pairs.push([element.data, readQr(cutOut(gray, element.bounds))])
      if (element.kind !== 'barcode') continue
      const symbol = cutOut(gray, element.bounds)
      const upright = element.placement.rotation % 180 === 0 ? symbol : quarterTurn(symbol)
      const read = readLinear(upright, element.symbology)
      // EAN-13 given 12 digits reads back with its check digit.
      pairs.push([element.data, element.symbology === 'ean13' && element.data.length === 12 ? read?.slice(0, 12) : read])
    }
  })
  return pairs
}

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0))

describe('rendered barcodes and QR codes scan to their data', () => {
  for (const file of ['examples/tickets/concert-qr.fgl', 'examples/tickets/parking-code128.fgl', 'examples/tickets/logo-graphics.fgl', 'examples/demo-ticket.fgl', 'test/fixtures/fgl/barcodes.fgl']) {
    it(file, () => {
      const pairs = scanAll(readFileSync(path.join(ROOT, file)))
      expect(pairs.length).toBeGreaterThan(0)
      for (const [expected, read] of pairs) expect(read, expected).toBe(expected)
    })
  }

  it('in every rotation, at 300 and 600 dpi, and at each QR error correction level', () => {
    const job = bytes([
      '<RC40,40><NR><X2><OL4>^ROT-0^<RC40,600><RR><X2><OP4>^ROT-90^<p>',
      '<RC300,500><RU><X2><OL4>^ROT-180^<RC350,800><RL><QR4,0,0,L>{rotated L}<p>',
      '<RC10,10><QR5,0,0,Q>{Q level}<RC10,300><QR2,0,0,H>{H level}<RC200,10><X1><OL6>^X1 NARROW^<p>'
    ].join(''))
    for (const dpi of [200, 300, 600] as const) {
      const pairs = scanAll(job, dpi)
      expect(pairs, `${dpi} dpi`).toHaveLength(7)
      for (const [expected, read] of pairs) expect(read, `${expected} at ${dpi} dpi`).toBe(expected)
    }
  })
})
