/**
 * A whole FGL job → its tickets (fgl/elements.ts) and lint findings, the way the printer lays them out
 * (BOCA.md "FGL"): commands set the state (position, font, multipliers, rotation, inverse, line thickness,
 * bar width), text and symbols are drawn at the current position, and every ticket starts from the defaults
 * (font 3, `HW1,1`, `NR`, `RC0,0`; the rest as at power-on). Text and `<G#>` graphics move the position along
 * their direction; boxes, lines, barcodes, QR codes and logos leave it where it was. Pure, never throws: what
 * it cannot draw becomes a finding.
 */
import { parseCommand, type Command, type Rotation } from './commands.ts'
import { boundsOf, offTicket, onTicket, type Placement, type Ticket, type TicketElement } from './elements.ts'
import { FindingList, type Finding } from './findings.ts'
import { DEFAULT_FONT, FAMILY_METRICS, RESIDENT_FONTS, TTF_ADVANCE_EM, TTF_LINE_EM, type FontFamily } from './fonts.ts'
import { encodeLinear, encodeQr } from './symbols.ts'
import { latin1, tokenize, type Token } from './tokens.ts'
import { ticketGeometry, type TicketGeometry } from './ticketSize.ts'

export interface LayoutOptions { geometry?: TicketGeometry }

export interface JobLayout {
  geometry: TicketGeometry
  tickets: Ticket[]
  findings: Finding[]
}

/** Defaults a preview assumes where FGL does not say (documented in README): */
const DEFAULT_BAR_WIDTH = 2
const DEFAULT_QR_MODULE = 4
const DEFAULT_LINE = 1
const LOGO_PLACEHOLDER = 96
/** `<BI>` text under a barcode: font 9's cell, 4 dots below the bars. */
const BARCODE_TEXT_FONT = 9
const BARCODE_TEXT_GAP = 4

interface State {
  row: number
  col: number
  font: number
  ttf?: { font: number, points: number }
  heightScale: number
  widthScale: number
  rotation: Rotation
  inverse: boolean
  lineThickness: number
  barWidth: number
  humanReadable: boolean
  logo?: { row: number, col: number }
}

const initialState = (): State => ({ row: 0, col: 0, font: DEFAULT_FONT, heightScale: 1, widthScale: 1, rotation: 0, inverse: false, lineThickness: DEFAULT_LINE, barWidth: DEFAULT_BAR_WIDTH, humanReadable: false })

/** A command waiting for its data field (`^…^`, `{…}`, `~…~`). */
type Pending = { command: Command & { op: 'barcode' | 'qr' | 'centre' }, start: number }

export function layoutJob (bytes: Uint8Array, options: LayoutOptions = {}): JobLayout {
  return new JobLayoutBuilder(bytes, options.geometry ?? ticketGeometry()).build()
}

class JobLayoutBuilder {
  private readonly findings: FindingList
  private readonly tickets: Ticket[] = []
  private state = initialState()
  private elements: TicketElement[] = []
  private ticketStart = 0
  /** Whether the open ticket has anything the printer would print (not just line breaks). */
  private content = false
  private pending: Pending | undefined
  private readonly scale: number

  constructor (private readonly bytes: Uint8Array, private readonly geometry: TicketGeometry) {
    this.findings = new FindingList(bytes)
    this.scale = geometry.dpi / 200
  }

  build (): JobLayout {
    for (const token of tokenize(this.bytes)) this.token(token)
    this.missingData()
    if (this.content) {
      this.findings.add('FGL_NO_TICKET_END', 'no <p> or <q> after this ticket: the printer does not print it until one comes', this.ticketStart, this.bytes.length, this.tickets.length)
      this.closeTicket(null, this.bytes.length)
    }
    return { geometry: this.geometry, tickets: this.tickets, findings: this.findings.items }
  }

  private get ticketIndex (): number {
    return this.tickets.length
  }

  private token (token: Token): void {
    if (this.pending !== undefined && token.kind === 'command' && token.name === 'BI' && this.pending.command.op === 'barcode') {
      this.state.humanReadable = true
      return
    }
    if (this.pending !== undefined && token.kind === 'field') {
      const pending = this.pending
      this.pending = undefined
      this.content = true
      this.withField(pending, latin1(token.data), token.end)
      return
    }
    if (this.pending !== undefined && token.kind === 'unterminated') {
      this.findings.add('FGL_UNTERMINATED_DATA', `data opened with ${token.open} is not closed before the ticket ends: nothing drawn`, token.start, token.end, this.ticketIndex)
      this.pending = undefined
      return
    }
    this.missingData()
    switch (token.kind) {
      case 'text': this.text(token.bytes, token.start); break
      case 'command': this.command(token.name, token.start, token.end); break
      case 'graphics': this.graphics(token); break
      case 'end': this.closeTicket(token.terminator, token.end); break
      case 'stray':
        this.findings.add('FGL_STRAY_BRACKET', '"<" starts no command (no ">" within 64 bytes, or another "<" first): printed as text', token.start, token.end, this.ticketIndex)
        this.text(Uint8Array.of(0x3c), token.start)
        break
      case 'open':
        this.findings.add('FGL_UNCLOSED_COMMAND', 'the job ends inside this command (no ">"): the printer waits for the rest of it', token.start, token.end, this.ticketIndex)
        break
      case 'status': break // <S1> is not part of a ticket
      case 'field': case 'unterminated': break // only ever right after their command, handled above
    }
  }

  private missingData (): void {
    if (this.pending === undefined) return
    const { command, start } = this.pending
    const open = command.op === 'qr' ? '{data}' : command.op === 'centre' ? '~text~' : command.symbology === 'code39' ? '*data*' : '^data^'
    this.findings.add('FGL_MISSING_DATA', `no ${open} after this command: nothing drawn`, start, start + 1, this.ticketIndex)
    this.pending = undefined
  }

  private closeTicket (terminator: 'p' | 'q' | null, end: number): void {
    this.tickets.push({ index: this.tickets.length, start: this.ticketStart, end, terminator, elements: this.elements })
    this.elements = []
    this.state = initialState()
    this.ticketStart = end
    this.content = false
  }

  private command (name: string, start: number, end: number): void {
    this.content = true
    const parsed = parseCommand(name)
    if (parsed.kind === 'unknown') return this.findings.add('FGL_UNKNOWN_COMMAND', parsed.message, start, end, this.ticketIndex)
    if (parsed.kind === 'bad') return this.findings.add('FGL_BAD_ARGUMENTS', parsed.message, start, end, this.ticketIndex)
    if (parsed.kind === 'unknownFont') return this.findings.add('FGL_UNKNOWN_FONT', `font ${parsed.font} is not one of BOCA.md's resident fonts (1-4, 6-13): the preview keeps font ${this.state.font}`, start, end, this.ticketIndex)
    const command = parsed.command
    const s = this.state
    switch (command.op) {
      case 'move': s.row = command.row; s.col = command.col; break
      case 'rotate': s.rotation = command.degrees; break
      case 'font': s.font = command.font; delete s.ttf; break
      case 'scale': s.heightScale = command.height; s.widthScale = command.width; break
      case 'inverse': s.inverse = command.on; break
      case 'lineThickness': s.lineThickness = command.dots; break
      case 'barWidth': s.barWidth = command.dots; break
      case 'humanReadable': s.humanReadable = true; break
      case 'ttf': s.ttf = { font: command.font, points: command.points }; break
      case 'logoPosition': s.logo = { row: command.row, col: command.col }; break
      case 'box': this.add({ kind: 'box', thickness: s.lineThickness }, command.width, command.height, this.here(), start, end); break
      case 'line': {
        const horizontal = command.direction === 'horizontal'
        this.add({ kind: 'line', direction: command.direction }, horizontal ? command.length : s.lineThickness, horizontal ? s.lineThickness : command.length, this.here(), start, end)
        break
      }
      case 'logo': {
        const at = s.logo ?? { row: s.row, col: s.col }
        this.add({ kind: 'logo', logo: command.logo }, LOGO_PLACEHOLDER * this.scale, LOGO_PLACEHOLDER * this.scale, { x: at.col, y: at.row, rotation: s.rotation }, start, end)
        this.findings.add('FGL_LOGO_PLACEHOLDER', `logo ${command.logo} is stored in the printer: the preview draws a labelled placeholder`, start, end, this.ticketIndex)
        break
      }
      case 'eject': this.findings.add('FGL_NOT_DRAWN', '<z> (print and eject, escrow printers) is not drawn and does not end the ticket here', start, end, this.ticketIndex); break
      case 'barcode': case 'qr': case 'centre': this.pending = { command, start }; break
    }
  }

  /** The current position as a placement, `along` dots further in the current direction. */
  private here (along = 0): Placement {
    const placement: Placement = { x: this.state.col, y: this.state.row, rotation: this.state.rotation }
    const [x, y] = onTicket(placement, along, 0)
    return { ...placement, x, y }
  }

  private advance (dots: number): void {
    const [x, y] = onTicket(this.here(), dots, 0)
    this.state.col = x
    this.state.row = y
  }

  private add (element: DistributiveOmit<TicketElement, 'start' | 'end' | 'placement' | 'width' | 'height' | 'bounds'>, width: number, height: number, placement: Placement, start: number, end: number): void {
    const bounds = boundsOf(placement, width, height)
    const full = { ...element, start, end, placement, width, height, bounds } as TicketElement
    this.elements.push(full)
    if (!offTicket(bounds, this.geometry)) return
    const symbol = full.kind === 'barcode' || full.kind === 'qr'
    const what = full.kind === 'text' ? `text "${short(full.text)}"` : full.kind === 'barcode' ? 'barcode' : full.kind === 'qr' ? 'QR code' : full.kind === 'graphics' ? `graphics (${full.data.length} columns)` : full.kind
    const message = `${what} covers rows ${bounds.top}-${bounds.bottom - 1}, columns ${bounds.left}-${bounds.right - 1}: off the ticket (rows 0-${this.geometry.rows - 1}, columns 0-${this.geometry.columns - 1})${symbol ? ', it will not scan' : ''}`
    this.findings.add(symbol ? 'FGL_BARCODE_OFF_TICKET' : 'FGL_OFF_TICKET', message, start, end, this.ticketIndex)
  }

  /** The current font's cell (after `HW` and the resolution), and how text in it is drawn. */
  private cell (text: string): { width: number, height: number, emDots: number, baseline: number, font: number, ttf: boolean, family: FontFamily, italic: boolean } {
    const s = this.state
    if (s.ttf !== undefined) {
      const em = s.ttf.points * this.geometry.dpi / 72
      const emDots = em * s.heightScale
      return { width: Math.round(em * TTF_ADVANCE_EM * s.widthScale) * text.length, height: Math.round(emDots * TTF_LINE_EM), emDots, baseline: emDots * FAMILY_METRICS['DejaVu Sans'].ascent, font: s.ttf.font, ttf: true, family: 'DejaVu Sans', italic: false }
    }
    const font = RESIDENT_FONTS[s.font] ?? RESIDENT_FONTS[DEFAULT_FONT]
    const width = Math.round(font!.width * this.scale) * s.widthScale
    const height = Math.round(font!.height * this.scale) * s.heightScale
    const metrics = FAMILY_METRICS[font!.family]
    const emDots = height / (metrics.capHeight + metrics.descent)
    return { width: width * text.length, height, emDots, baseline: emDots * metrics.capHeight, font: s.font, ttf: false, family: font!.family, italic: font!.italic }
  }

  private text (bytes: Uint8Array, start: number): void {
    let run = ''
    let runStart = start
    const flush = (at: number): void => {
      if (run !== '') this.drawText(run, runStart, at)
      run = ''
    }
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] as number
      if (byte === 0x0d || byte === 0x0a) { flush(start + i); continue }
      if (byte < 0x20 || (byte >= 0x7f && byte < 0xa0)) {
        flush(start + i)
        this.findings.add('FGL_CONTROL_BYTE', `control byte 0x${byte.toString(16).padStart(2, '0').toUpperCase()} in text: not drawn`, start + i, start + i + 1, this.ticketIndex)
        continue
      }
      if (run === '') runStart = start + i
      run += String.fromCharCode(byte)
    }
    flush(start + bytes.length)
  }

  private drawText (text: string, start: number, end: number, fieldWidth?: number): void {
    const cell = this.cell(text)
    const perChar = text.length === 0 ? 0 : cell.width / text.length
    // Blank cells draw nothing unless inverse: leading and trailing spaces only move the position.
    const lead = this.state.inverse ? 0 : text.length - text.trimStart().length
    const shown = this.state.inverse ? text : text.trim()
    const offset = fieldWidth === undefined ? 0 : Math.round((fieldWidth - cell.width) / 2)
    if (shown !== '') {
      this.content = true
      const { width: _w, height, ...style } = cell
      this.add({ kind: 'text', text: shown, ...style, inverse: this.state.inverse }, perChar * shown.length, height, this.here(offset + lead * perChar), start, end)
    }
    this.advance(fieldWidth ?? cell.width)
  }

  private graphics (token: Token & { kind: 'graphics' }): void {
    this.content = true
    if (token.data.length < token.declared) {
      this.findings.add('FGL_GRAPHICS_PAST_END', `<G${token.declared}> announces ${token.declared} bytes; the job has ${token.data.length} left`, token.start, token.end, this.ticketIndex)
    }
    if (token.data.length === 0) return
    this.add({ kind: 'graphics', data: token.data }, token.data.length, 8, this.here(), token.start, token.end)
    this.advance(token.data.length)
  }

  private withField (pending: Pending, data: string, end: number): void {
    const { command, start } = pending
    const s = this.state
    if (command.op === 'centre') return this.drawText(data, start, end, command.width)
    if (command.op === 'qr') {
      const ecc = command.ecc ?? 'M'
      const matrix = encodeQr(data, ecc)
      if (typeof matrix === 'string') return this.findings.add('FGL_BAD_BARCODE_DATA', `QR code: ${matrix}`, start, end, this.ticketIndex)
      const moduleDots = (command.moduleDots ?? DEFAULT_QR_MODULE)
      const side = matrix.size * moduleDots
      this.add({ kind: 'qr', data, ecc, moduleDots, size: matrix.size, dark: matrix.dark }, side, side, this.here(), start, end)
      return
    }
    const pattern = encodeLinear(command.symbology, data)
    const humanReadable = s.humanReadable
    s.humanReadable = false
    if (typeof pattern === 'string') return this.findings.add('FGL_BAD_BARCODE_DATA', `${command.symbology === 'code128' ? 'Code 128' : command.symbology === 'code39' ? 'Code 39' : 'EAN-13'}: ${pattern}`, start, end, this.ticketIndex)
    const barHeight = command.height * 8
    const text = humanReadable ? { cellWidth: Math.round(RESIDENT_FONTS[BARCODE_TEXT_FONT]!.width * this.scale), cellHeight: Math.round(RESIDENT_FONTS[BARCODE_TEXT_FONT]!.height * this.scale), gap: BARCODE_TEXT_GAP } : undefined
    const width = pattern.modules * s.barWidth
    const height = barHeight + (text === undefined ? 0 : text.gap + text.cellHeight)
    // Ladder: the code runs along the current direction, bars across it. Picket fence: the code runs a quarter
    // turn clockwise from it (down the rows for <NR>), its bars starting at the current position.
    const placement = command.orientation === 'ladder'
      ? this.here()
      : (() => { const [x, y] = onTicket(this.here(), height, 0); return { x, y, rotation: ((s.rotation + 90) % 360) as Rotation } })()
    this.add({ kind: 'barcode', symbology: command.symbology, orientation: command.orientation, data, widths: pattern.widths, barWidth: s.barWidth, barHeight, ...(text === undefined ? {} : { text }) }, width, height, placement, start, end)
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

function short (text: string): string {
  return text.length > 24 ? `${text.slice(0, 24)}…` : text
}
