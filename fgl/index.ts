/**
 * The FGL preview (SPEC "Ticket preview (FGL)"): parse a job, lay out its tickets, draw each as SVG, lint it.
 * Browser-safe, shared by the CLI, the print page and the printer simulator; PNG output is fgl/png.ts (Node).
 */
import { layoutJob, type JobLayout, type LayoutOptions } from './layout.ts'
import { sortFindings } from './lint.ts'
import { ticketSvg } from './svg.ts'

export { tokenize, type Token } from './tokens.ts'
export { parseCommand, type Command } from './commands.ts'
export { layoutJob, type JobLayout, type LayoutOptions } from './layout.ts'
export { lintFgl, hasErrors, sortFindings } from './lint.ts'
export { ticketSvg, type SvgOptions } from './svg.ts'
export { FINDING_CODES, findingLine, LineIndex, type Finding, type FindingCode, type Severity } from './findings.ts'
export { DEFAULT_DPI, DEFAULT_SIZE, parseDpi, parseTicketSize, ticketGeometry, type Dpi, type TicketGeometry, type TicketSize } from './ticketSize.ts'
export type { Ticket, TicketElement, Bounds, Placement } from './elements.ts'

export interface RenderedJob extends JobLayout {
  /** One SVG document per ticket, in job order. */
  svgs: string[]
}

/** A whole job → its tickets drawn as SVG, and the lint findings (sorted by position). */
export function renderJob (bytes: Uint8Array, options: LayoutOptions = {}): RenderedJob {
  const layout = layoutJob(bytes, options)
  return { ...layout, findings: sortFindings(layout.findings), svgs: layout.tickets.map((ticket) => ticketSvg(ticket, layout.geometry)) }
}
