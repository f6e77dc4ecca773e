/**
 * A printed ticket's picture, for the simulator's dump (`<n>.png`) and `npm start`'s page (printedTicketsRouter.ts):
 * the ticket's bytes drawn by the FGL renderer (fgl/) at the default size, 2" × 5.5" at 200 dpi, and rasterized by
 * fgl/png.ts. The simulator receives one ticket at a time (its scanner splits jobs where the printer would).
 */
import { renderJob } from '../fgl/index.ts'
import { svgToPng } from '../fgl/png.ts'

/** The ticket as SVG; throws when the bytes hold no ticket to draw. */
export function ticketSvg (bytes: Uint8Array): string {
  const svg = renderJob(bytes).svgs[0]
  if (svg === undefined) throw new Error('the bytes hold no ticket to draw')
  return svg
}

export function ticketPng (bytes: Uint8Array): Uint8Array {
  return svgToPng(ticketSvg(bytes))
}
