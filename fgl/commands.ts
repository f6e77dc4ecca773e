/**
 * FGL command names → what they mean (BOCA.md's table), or why not: unknown (the printer may know it; the
 * preview does not draw it) or malformed (known, with missing or wrong arguments). Names are case-sensitive.
 * `<p>`, `<q>`, `<S1>` and `<G#>` are read by the tokenizer (fgl/tokens.ts) and never reach here.
 */
import { RESIDENT_FONTS } from './fonts.ts'

export type Rotation = 0 | 90 | 180 | 270
export type Symbology = 'code128' | 'code39' | 'ean13'
export type QrEcc = 'L' | 'M' | 'Q' | 'H'

export type Command =
  | { op: 'move', row: number, col: number }
  | { op: 'rotate', degrees: Rotation }
  | { op: 'font', font: number }
  | { op: 'scale', height: number, width: number }
  | { op: 'inverse', on: boolean }
  | { op: 'lineThickness', dots: number }
  | { op: 'box', height: number, width: number }
  | { op: 'line', direction: 'horizontal' | 'vertical', length: number }
  | { op: 'ttf', font: number, points: number }
  | { op: 'centre', width: number }
  | { op: 'qr', moduleDots?: number, ecc?: QrEcc }
  | { op: 'barWidth', dots: number }
  | { op: 'barcode', symbology: Symbology, orientation: 'ladder' | 'picket', height: number }
  | { op: 'humanReadable' }
  | { op: 'logoPosition', row: number, col: number }
  | { op: 'logo', logo: number }
  | { op: 'eject' }

export type ParsedCommand =
  | { kind: 'ok', command: Command }
  | { kind: 'bad', message: string }
  | { kind: 'unknown', message: string }
  | { kind: 'unknownFont', font: number }

const N = '(\\d{1,6})'
const num = (text: string | undefined): number => Number(text)

interface Syntax { pattern: RegExp, usage: string, build: (m: RegExpExecArray) => Command | string }

const positive = (value: number, what: string): string | undefined => value >= 1 ? undefined : `${what} must be at least 1`

/** Each command by its leading letters; `build` returns a message where the values are out of range. */
const SYNTAX: Record<string, Syntax> = {
  RC: { pattern: re(`RC${N},${N}`), usage: '<RCrow,column>', build: (m) => ({ op: 'move', row: num(m[1]), col: num(m[2]) }) },
  NR: { pattern: /^NR$/, usage: '<NR>', build: () => ({ op: 'rotate', degrees: 0 }) },
  RR: { pattern: /^RR$/, usage: '<RR>', build: () => ({ op: 'rotate', degrees: 90 }) },
  RU: { pattern: /^RU$/, usage: '<RU>', build: () => ({ op: 'rotate', degrees: 180 }) },
  RL: { pattern: /^RL$/, usage: '<RL>', build: () => ({ op: 'rotate', degrees: 270 }) },
  F: { pattern: re(`F${N}`), usage: '<Fn> (n from 1 to 13)', build: (m) => ({ op: 'font', font: num(m[1]) }) },
  HW: {
    pattern: re(`HW${N},${N}`),
    usage: '<HWheight,width> (multipliers from 1 to 16)',
    build: (m) => {
      const height = num(m[1])
      const width = num(m[2])
      return height < 1 || width < 1 || height > 16 || width > 16 ? 'multipliers go from 1 to 16' : { op: 'scale', height, width }
    }
  },
  EI: { pattern: /^EI$/, usage: '<EI>', build: () => ({ op: 'inverse', on: true }) },
  DI: { pattern: /^DI$/, usage: '<DI>', build: () => ({ op: 'inverse', on: false }) },
  LT: { pattern: re(`LT${N}`), usage: '<LT#> (dots)', build: (m) => positive(num(m[1]), 'the thickness') ?? { op: 'lineThickness', dots: num(m[1]) } },
  BX: { pattern: re(`BX${N},${N}`), usage: '<BXheight,width> (dots)', build: (m) => positive(Math.min(num(m[1]), num(m[2])), 'each side') ?? { op: 'box', height: num(m[1]), width: num(m[2]) } },
  HX: { pattern: re(`HX${N}`), usage: '<HX#> (dots)', build: (m) => positive(num(m[1]), 'the length') ?? { op: 'line', direction: 'horizontal', length: num(m[1]) } },
  VX: { pattern: re(`VX${N}`), usage: '<VX#> (dots)', build: (m) => positive(num(m[1]), 'the length') ?? { op: 'line', direction: 'vertical', length: num(m[1]) } },
  TTF: { pattern: re(`TTF${N},${N}`), usage: '<TTFfont,points>', build: (m) => positive(num(m[2]), 'the size') ?? { op: 'ttf', font: num(m[1]), points: num(m[2]) } },
  CTR: { pattern: re(`CTR${N}`), usage: '<CTR####>~text~ (field width in dots)', build: (m) => positive(num(m[1]), 'the width') ?? { op: 'centre', width: num(m[1]) } },
  QR: {
    pattern: /^QR(\d{0,2})(?:,(\d?)(?:,(\d?)(?:,([LMQH]?))?)?)?$/,
    usage: '<QRsize,tilde,mode,ecc>{data} (all optional; size 1-99 dots per module, ecc L, M, Q or H)',
    build: (m) => {
      if (m[1] !== undefined && m[1] !== '' && num(m[1]) < 1) return 'the module size must be at least 1'
      return {
        op: 'qr',
        ...(m[1] === undefined || m[1] === '' ? {} : { moduleDots: num(m[1]) }),
        ...(m[4] === undefined || m[4] === '' ? {} : { ecc: m[4] as QrEcc })
      }
    }
  },
  X: { pattern: re(`X${N}`), usage: '<X#> (bar width in dots, 1-20)', build: (m) => num(m[1]) < 1 || num(m[1]) > 20 ? 'the bar width goes from 1 to 20 dots' : { op: 'barWidth', dots: num(m[1]) } },
  OL: barcode('OL', 'code128', 'ladder', '^data^'),
  OP: barcode('OP', 'code128', 'picket', '^data^'),
  NL: barcode('NL', 'code39', 'ladder', '*data*'),
  NP: barcode('NP', 'code39', 'picket', '*data*'),
  EL: barcode('EL', 'ean13', 'ladder', '^data^'),
  EP: barcode('EP', 'ean13', 'picket', '^data^'),
  BI: { pattern: /^BI$/, usage: '<BI>', build: () => ({ op: 'humanReadable' }) },
  SP: { pattern: re(`SP${N},${N}`), usage: '<SProw,column>', build: (m) => ({ op: 'logoPosition', row: num(m[1]), col: num(m[2]) }) },
  LD: { pattern: re(`LD${N}`), usage: '<LD#> (logo number)', build: (m) => ({ op: 'logo', logo: num(m[1]) }) },
  G: { pattern: /^$/, usage: '<G#> followed by # bytes', build: () => 'a byte count is needed' },
  z: { pattern: /^z$/, usage: '<z>', build: () => ({ op: 'eject' }) }
}

function re (body: string): RegExp {
  return new RegExp(`^${body}$`)
}

function barcode (name: string, symbology: Symbology, orientation: 'ladder' | 'picket', field: string): Syntax {
  return {
    pattern: re(`${name}${N}`),
    usage: `<${name}#>${field} (# = bar height in units of 8 dots, 1-99)`,
    build: (m) => num(m[1]) < 1 || num(m[1]) > 99 ? 'the height goes from 1 to 99 units of 8 dots' : { op: 'barcode', symbology, orientation, height: num(m[1]) }
  }
}

/** A command's name (between the brackets) → its meaning, or why it has none. */
export function parseCommand (name: string): ParsedCommand {
  const prefix = /^[A-Za-z]*/.exec(name)?.[0] ?? ''
  const syntax = Object.hasOwn(SYNTAX, prefix) ? SYNTAX[prefix] : undefined
  if (syntax === undefined) return { kind: 'unknown', message: unknownMessage(name, prefix) }
  const match = syntax.pattern.exec(name)
  if (!match) return { kind: 'bad', message: `<${name}>: expected ${syntax.usage}` }
  const built = syntax.build(match)
  if (typeof built === 'string') return { kind: 'bad', message: `<${name}>: ${built}; expected ${syntax.usage}` }
  if (built.op === 'font' && RESIDENT_FONTS[built.font] === undefined) return { kind: 'unknownFont', font: built.font }
  return { kind: 'ok', command: built }
}

function unknownMessage (name: string, prefix: string): string {
  const shown = name.length > 20 ? `${name.slice(0, 20)}…` : name
  const upper = prefix.toUpperCase()
  if (upper !== prefix && Object.hasOwn(SYNTAX, upper)) return `unknown command <${shown}>; commands are case-sensitive: <${upper}${name.slice(prefix.length)}>?`
  return `unknown command <${shown}>: not drawn`
}
