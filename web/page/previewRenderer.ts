/**
 * The ticket preview's renderer for the page: its own script, `/preview.js` (web/server/pageBundle.ts), because
 * fgl/ with bwip-js is most of the page's weight. The page loads it with `import()` once it has started
 * (previewPanel.ts), so it connects and prints before the renderer arrives. Pure: bytes in, SVG text out.
 */
import { layoutJob, sortFindings, ticketGeometry, ticketSvg, type Dpi, type Finding, type TicketSize } from '../../fgl/index.ts'

export interface PagePreview {
  /** Tickets in the job. */
  count: number
  /** The first `maxTickets` tickets' SVG documents, each titled "Ticket preview, ticket n of N". */
  svgs: string[]
  /** For each of those: false when it has no `<p>`/`<q>` yet (the printer would not print it). */
  ended: boolean[]
  /** Lint findings, sorted by position (byte offsets). */
  findings: Finding[]
  /** The printable area in dots. */
  columns: number
  rows: number
}

export function renderPreview (bytes: Uint8Array, size: TicketSize, dpi: Dpi, maxTickets: number): PagePreview {
  const geometry = ticketGeometry(size, dpi)
  const layout = layoutJob(bytes, { geometry })
  const count = layout.tickets.length
  const shown = layout.tickets.slice(0, maxTickets)
  const svgs = shown.map((ticket) => ticketSvg(ticket, geometry, { title: `Ticket preview, ticket ${ticket.index + 1} of ${count}` }))
  return { count, svgs, ended: shown.map((ticket) => ticket.terminator !== null), findings: sortFindings(layout.findings), columns: geometry.columns, rows: geometry.rows }
}
