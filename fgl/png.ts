/**
 * A ticket's SVG (fgl/svg.ts) → PNG, in Node only: rasterized by resvg (@resvg/resvg-js) with the open fonts
 * the SVG names loaded from their npm packages (DejaVu from dejavu-fonts-ttf, Courier Prime from
 * @expo-google-fonts/courier-prime), never the machine's own fonts, so a preview is the same everywhere.
 * The browser draws the same SVG itself and never imports this file.
 */
import { createRequire } from 'node:module'
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js'

const require = createRequire(import.meta.url)

export const FONT_FILES: readonly string[] = [
  'dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf',
  'dejavu-fonts-ttf/ttf/DejaVuSans.ttf',
  '@expo-google-fonts/courier-prime/400Regular/CourierPrime_400Regular.ttf',
  '@expo-google-fonts/courier-prime/400Regular_Italic/CourierPrime_400Regular_Italic.ttf'
].map((file) => require.resolve(file))

const OPTIONS: ResvgRenderOptions = {
  font: { loadSystemFonts: false, fontFiles: [...FONT_FILES], defaultFontFamily: 'DejaVu Sans Mono', monospaceFamily: 'DejaVu Sans Mono', sansSerifFamily: 'DejaVu Sans' },
  shapeRendering: 1, // crispEdges: dots stay whole dots
  background: '#ffffff',
  logLevel: 'off'
}

export interface RasterImage { width: number, height: number, png: Uint8Array, /** RGBA, row by row. */ pixels: Uint8Array }

/** The SVG as a PNG (one pixel per dot) and its RGBA pixels. */
export function rasterize (svg: string): RasterImage {
  const image = new Resvg(svg, OPTIONS).render()
  return { width: image.width, height: image.height, png: image.asPng(), pixels: image.pixels }
}

export function svgToPng (svg: string): Uint8Array {
  return rasterize(svg).png
}
