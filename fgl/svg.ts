/**
 * One ticket of the model (fgl/elements.ts) → an SVG document string, one user unit per printer dot, black on
 * white, the printable area exactly (what reaches past it is clipped, as on the printer). Text names the open
 * fonts fgl/png.ts bundles, with browser fallbacks; its width is fixed by `textLength`, so the layout holds
 * whatever font draws it. Browser-safe.
 */
import { cssFamily } from './fonts.ts'
import { AXES, type BarcodeElement, type GraphicsElement, type Placement, type QrElement, type TextElement, type Ticket, type TicketElement } from './elements.ts'
import type { TicketGeometry } from './ticketSize.ts'

export interface SvgOptions {
  /** The accessible name (`<title>`); default "Ticket n preview". */
  title?: string
}

export function ticketSvg (ticket: Ticket, geometry: TicketGeometry, options: SvgOptions = {}): string {
  const { columns: w, rows: h } = geometry
  const title = options.title ?? `Ticket ${ticket.index + 1} preview`
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" shape-rendering="crispEdges">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`
  ]
  for (const element of ticket.elements) parts.push(drawElement(element, geometry))
  parts.push('</svg>')
  return parts.join('\n')
}

function drawElement (element: TicketElement, geometry: TicketGeometry): string {
  switch (element.kind) {
    case 'graphics': return graphics(element, geometry) // placed dot by dot, so it can be clipped to the ticket
    case 'text': return group(element.placement, text(element))
    case 'box': {
      const { width: bw, height: bh, thickness: t } = element
      const inner = bw > 2 * t && bh > 2 * t ? ` M${t} ${t}v${bh - 2 * t}h${bw - 2 * t}v${-(bh - 2 * t)}z` : ''
      return group(element.placement, `<path d="M0 0h${bw}v${bh}h${-bw}z${inner}" fill-rule="evenodd"/>`)
    }
    case 'line': return group(element.placement, `<rect width="${element.width}" height="${element.height}"/>`)
    case 'barcode': return group(element.placement, barcode(element))
    case 'qr': return group(element.placement, qr(element))
    case 'logo': {
      const { width: lw, height: lh } = element
      const size = Math.max(8, Math.round(lh / 6))
      return group(element.placement, [
        `<rect x="1" y="1" width="${lw - 2}" height="${lh - 2}" fill="#eee" stroke="#000" stroke-width="2" stroke-dasharray="6 4"/>`,
        `<path d="M0 0L${lw} ${lh}M${lw} 0L0 ${lh}" stroke="#999" stroke-width="1"/>`,
        `<text x="${lw / 2}" y="${lh / 2 + size / 3}" text-anchor="middle" font-family="${escapeXml(cssFamily('DejaVu Sans'))}" font-size="${size}" fill="#000">logo ${element.logo}</text>`
      ].join(''))
    }
  }
}

function group (placement: Placement, body: string): string {
  const rotate = placement.rotation === 0 ? '' : ` rotate(${placement.rotation})`
  return `<g transform="translate(${placement.x} ${placement.y})${rotate}">${body}</g>`
}

function text (element: TextElement): string {
  const fill = element.inverse ? '#fff' : '#000'
  const background = element.inverse ? `<rect width="${element.width}" height="${element.height}"/>` : ''
  const style = element.italic ? ' font-style="italic"' : ''
  return `${background}<text x="0" y="${round(element.baseline)}" font-family="${escapeXml(cssFamily(element.family))}"${style} font-size="${round(element.emDots)}" textLength="${element.width}" lengthAdjust="spacingAndGlyphs" xml:space="preserve" fill="${fill}">${escapeXml(element.text)}</text>`
}

function barcode (element: BarcodeElement): string {
  let x = 0
  let d = ''
  element.widths.forEach((modules, i) => {
    const dots = modules * element.barWidth
    if (i % 2 === 0) d += `M${x} 0h${dots}v${element.barHeight}h${-dots}z`
    x += dots
  })
  let out = `<path d="${d}"/>`
  if (element.text !== undefined) {
    const { cellWidth, cellHeight, gap } = element.text
    const textWidth = cellWidth * element.data.length
    const em = cellHeight / 0.97
    out += `<text x="${round((element.width - textWidth) / 2)}" y="${round(element.barHeight + gap + em * 0.73)}" font-family="${escapeXml(cssFamily('DejaVu Sans Mono'))}" font-size="${round(em)}" textLength="${textWidth}" lengthAdjust="spacingAndGlyphs" xml:space="preserve">${escapeXml(element.data)}</text>`
  }
  return out
}

function qr (element: QrElement): string {
  const m = element.moduleDots
  let d = ''
  for (let row = 0; row < element.size; row++) {
    let col = 0
    while (col < element.size) {
      if (element.dark[row * element.size + col] !== 1) { col++; continue }
      const from = col
      while (col < element.size && element.dark[row * element.size + col] === 1) col++
      d += `M${from * m} ${row * m}h${(col - from) * m}v${m}h${-(col - from) * m}z`
    }
  }
  return `<path d="${d}"/>`
}

/**
 * Graphics as runs of dots down each column (byte k is column k; its high bit the top dot), in ticket
 * coordinates; columns wholly off the ticket are skipped, so a 1 MiB block costs no more than the ticket holds.
 */
function graphics (element: GraphicsElement, geometry: TicketGeometry): string {
  const { placement, data } = element
  const { x: [ux, uy], y: [vx, vy] } = AXES[placement.rotation]
  const parts: string[] = []
  for (let k = 0; k < data.length; k++) {
    const byte = data[k] as number
    if (byte === 0) continue
    // Column k covers u in [k, k+1), v in [0, 8) of the element's frame: its corners on the ticket.
    const x0 = placement.x + k * ux
    const y0 = placement.y + k * uy
    const x1 = x0 + ux + 8 * vx
    const y1 = y0 + uy + 8 * vy
    if (Math.max(x0, x1) <= 0 || Math.min(x0, x1) >= geometry.columns || Math.max(y0, y1) <= 0 || Math.min(y0, y1) >= geometry.rows) continue
    let bit = 0
    while (bit < 8) {
      if ((byte & (0x80 >> bit)) === 0) { bit++; continue }
      const from = bit
      while (bit < 8 && (byte & (0x80 >> bit)) !== 0) bit++
      // The run covers u in [k, k+1), v in [from, bit).
      const ax = x0 + from * vx
      const ay = y0 + from * vy
      const bx = x0 + ux + bit * vx
      const by = y0 + uy + bit * vy
      const w = Math.abs(bx - ax)
      parts.push(`M${Math.min(ax, bx)} ${Math.min(ay, by)}h${w}v${Math.abs(by - ay)}h${-w}z`)
    }
  }
  return parts.length === 0 ? '' : `<path d="${parts.join('')}"/>`
}

function round (value: number): number {
  return Math.round(value * 100) / 100
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }

export function escapeXml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string)
}
