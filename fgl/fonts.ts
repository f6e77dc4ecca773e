/**
 * The printer's resident fonts (BOCA.md's `<Fn>` table): the character cell of each, in dots at 200 dpi, and
 * the open font the preview draws it with. Every glyph is stretched to fill its cell, so text takes exactly the
 * room it takes on the ticket even where the typeface only resembles Boca's (OCR-B, OCR-A and Orator are drawn
 * with DejaVu Sans Mono, Courier and Prestige with Courier Prime, Script with Courier Prime Italic).
 * TrueType text (`<TTFn,size>`) is drawn with DejaVu Sans: the printer's downloaded font n is not known here.
 */

export type FontFamily = 'DejaVu Sans Mono' | 'Courier Prime' | 'DejaVu Sans'

export interface ResidentFont {
  /** Cell width and height in dots at 200 dpi. */
  width: number
  height: number
  family: FontFamily
  italic: boolean
  /** Boca's name for it. */
  name: string
}

const mono = (width: number, height: number, name: string, family: FontFamily = 'DejaVu Sans Mono', italic = false): ResidentFont =>
  ({ width, height, family, italic, name })

export const RESIDENT_FONTS: Readonly<Record<number, ResidentFont>> = {
  1: mono(5, 7, '5×7'),
  2: mono(7, 10, '7×10'),
  3: mono(17, 31, 'OCR-B 17×31'),
  4: mono(5, 9, 'OCR-A 5×9'),
  6: mono(30, 52, '30×52'),
  7: mono(15, 29, '15×29'),
  8: mono(18, 30, 'Courier 18×30', 'Courier Prime'),
  9: mono(13, 20, '13×20'),
  10: mono(25, 41, 'Prestige 25×41', 'Courier Prime'),
  11: mono(25, 49, 'Script 25×49', 'Courier Prime', true),
  12: mono(46, 91, 'Orator 46×91'),
  13: mono(20, 40, 'Courier 20×40', 'Courier Prime')
}

export const DEFAULT_FONT = 3

/** The CSS font-family list an SVG names for a family (the fallback serves a browser without the font). */
export function cssFamily (family: FontFamily): string {
  return family === 'DejaVu Sans' ? "'DejaVu Sans', Verdana, sans-serif" : `'${family}', 'Courier New', monospace`
}

/**
 * Each family's capital height and descender depth, in ems (from the fonts' own tables, rounded): a resident
 * font's em is chosen so that capitals and descenders exactly fill its cell's height.
 */
export const FAMILY_METRICS: Record<FontFamily, { capHeight: number, descent: number, ascent: number }> = {
  'DejaVu Sans Mono': { capHeight: 0.73, descent: 0.24, ascent: 0.93 },
  'DejaVu Sans': { capHeight: 0.73, descent: 0.24, ascent: 0.93 },
  'Courier Prime': { capHeight: 0.6, descent: 0.2, ascent: 0.8 }
}

/** Average advance of DejaVu Sans, in ems: TrueType text is laid out (and stretched) to this width per character. */
export const TTF_ADVANCE_EM = 0.6
/** A TrueType line's height, in ems (DejaVu Sans' ascent + descent). */
export const TTF_LINE_EM = 1.17
