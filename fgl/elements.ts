/**
 * The ticket model: what one ticket draws, each element in dots. An element is laid out in its own frame
 * (x along its text or code, y down across it, from its top-left corner), then placed: that corner at (x, y)
 * on the ticket (x = column, y = row) and the frame turned clockwise by `rotation` about it, as `<RR>`, `<RU>`,
 * `<RL>` turn text. `bounds` is the box it covers on the ticket.
 */
import type { QrEcc, Rotation, Symbology } from './commands.ts'
import type { FontFamily } from './fonts.ts'
import type { TicketGeometry } from './ticketSize.ts'

export interface Placement { x: number, y: number, rotation: Rotation }

/** Left/top inclusive, right/bottom exclusive, in dots. */
export interface Bounds { left: number, top: number, right: number, bottom: number }

interface ElementBase {
  /** Byte range of the job that made it (command, data and all). */
  start: number
  end: number
  placement: Placement
  /** Size in its own frame, in dots. */
  width: number
  height: number
  bounds: Bounds
}

export interface TextElement extends ElementBase {
  kind: 'text'
  text: string
  /** Resident font number, or the TrueType font's when `ttf`. */
  font: number
  ttf: boolean
  family: FontFamily
  italic: boolean
  /** Em size the glyphs are drawn at (their width is stretched to `width`), and the baseline's depth in the cell. */
  emDots: number
  baseline: number
  inverse: boolean
}

export interface BoxElement extends ElementBase { kind: 'box', thickness: number }
/** `<HX#>` / `<VX#>`: a filled bar `width` × `height`. */
export interface LineElement extends ElementBase { kind: 'line', direction: 'horizontal' | 'vertical' }

export interface BarcodeElement extends ElementBase {
  kind: 'barcode'
  symbology: Symbology
  orientation: 'ladder' | 'picket'
  data: string
  /** Module widths, bar first, alternating bar and space. */
  widths: number[]
  barWidth: number
  barHeight: number
  /** Human-readable text under the bars (`<BI>`): its cell, or undefined. */
  text?: { cellWidth: number, cellHeight: number, gap: number }
}

export interface QrElement extends ElementBase {
  kind: 'qr'
  data: string
  ecc: QrEcc
  moduleDots: number
  size: number
  dark: Uint8Array
}

/** `<G#>`: byte k is the column k dots along, its high bit the top of 8 dots. */
export interface GraphicsElement extends ElementBase { kind: 'graphics', data: Uint8Array }

export interface LogoElement extends ElementBase { kind: 'logo', logo: number }

export type TicketElement = TextElement | BoxElement | LineElement | BarcodeElement | QrElement | GraphicsElement | LogoElement

export interface Ticket {
  /** 0-based, in job order. */
  index: number
  /** Byte range of the job, terminator included. */
  start: number
  end: number
  /** How it ends; null when the job ends without `<p>`/`<q>` (the printer has not printed it). */
  terminator: 'p' | 'q' | null
  elements: TicketElement[]
}

/** Where the unit vectors of an element's frame point on the ticket, for each rotation (clockwise, y down). */
export const AXES: Record<Rotation, { x: [number, number], y: [number, number] }> = {
  0: { x: [1, 0], y: [0, 1] },
  90: { x: [0, 1], y: [-1, 0] },
  180: { x: [-1, 0], y: [0, -1] },
  270: { x: [0, -1], y: [1, 0] }
}

/** The point (u, v) of an element's frame, on the ticket. */
export function onTicket (placement: Placement, u: number, v: number): [number, number] {
  const { x, y } = AXES[placement.rotation]
  return [placement.x + u * x[0] + v * y[0], placement.y + u * x[1] + v * y[1]]
}

export function boundsOf (placement: Placement, width: number, height: number): Bounds {
  const [x0, y0] = onTicket(placement, 0, 0)
  const [x1, y1] = onTicket(placement, width, height)
  return { left: Math.min(x0, x1), top: Math.min(y0, y1), right: Math.max(x0, x1), bottom: Math.max(y0, y1) }
}

/** Whether `bounds` reach past the printable area. */
export function offTicket (bounds: Bounds, geometry: TicketGeometry): boolean {
  return bounds.left < 0 || bounds.top < 0 || bounds.right > geometry.columns || bounds.bottom > geometry.rows
}
