/**
 * The printable area of a ticket, in dots, from its paper size and the printer's resolution.
 *
 * BOCA.md gives one data point: a 2" × 5.5" ticket at 200 dpi spans rows 0–383 and columns 0–1049. That is not
 * 2 × 200 = 400 rows by 5.5 × 200 = 1100 columns: the print head is 384 dots wide (48 bytes, 1.92"), narrower
 * than the paper, and 1/8" at each end of the ticket is not printed (50 columns at 200 dpi). Other sizes and
 * resolutions are derived by the same rule: rows = 0.96 × width × dpi, columns = (length − 0.25") × dpi.
 * Rows run across the ticket (top to bottom as the preview shows it), columns along its length.
 */

/** Printer resolution classes; 203 dpi printers are the 200-dpi class (FGL addresses them in 200-dpi dots). */
export type Dpi = 200 | 300 | 600
export const DPI_CHOICES = ['203', '200', '300', '600'] as const

export interface TicketSize {
  /** Paper width (across the print head) and length, in inches. */
  widthIn: number
  lengthIn: number
}

export interface TicketGeometry extends TicketSize {
  dpi: Dpi
  /** Printable rows (0 … rows − 1) and columns (0 … columns − 1). */
  rows: number
  columns: number
}

export const DEFAULT_SIZE: TicketSize = { widthIn: 2, lengthIn: 5.5 }
export const DEFAULT_DPI: Dpi = 200

const HEAD_SHARE = 0.96
const UNPRINTED_LENGTH_IN = 0.25

export function ticketGeometry (size: TicketSize = DEFAULT_SIZE, dpi: Dpi = DEFAULT_DPI): TicketGeometry {
  return {
    ...size,
    dpi,
    rows: Math.round(size.widthIn * dpi * HEAD_SHARE),
    columns: Math.round((size.lengthIn - UNPRINTED_LENGTH_IN) * dpi)
  }
}

/** `203`, `200`, `300` or `600` → the resolution class; undefined for anything else. */
export function parseDpi (text: string): Dpi | undefined {
  if (text === '203' || text === '200') return 200
  if (text === '300') return 300
  if (text === '600') return 600
  return undefined
}

/** `2x5.5` (width × length, inches; `x` or `×`) → the size; undefined unless both are from 1" to 20". */
export function parseTicketSize (text: string): TicketSize | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*[x×X]\s*(\d+(?:\.\d+)?)\s*$/.exec(text)
  if (!match) return undefined
  const widthIn = Number(match[1])
  const lengthIn = Number(match[2])
  if (widthIn < 1 || widthIn > 20 || lengthIn < 1 || lengthIn > 20) return undefined
  return { widthIn, lengthIn }
}
