/**
 * The ticket preview beside the editor: the job drawn as the printer lays it out (fgl/, through `/preview.js`,
 * loaded after the page starts), redrawn 150 ms after the last keystroke, each ticket of the job as inline SVG
 * ("Ticket preview, ticket n of N"), and the lint findings under it; choosing a finding (a button: click, Enter
 * or Space) selects its bytes in the editor. The ticket size and resolution come from a select (2" × 5.5" at
 * 200 dpi unless chosen otherwise). Lint advises: nothing here stops a job from printing.
 */
import type { Finding } from '../../fgl/findings.ts'
import { parseDpi, parseTicketSize } from '../../fgl/ticketSize.ts'
import { jobBytes, type JobBytes } from './jobText.ts'
import type { PagePreview, renderPreview } from './previewRenderer.ts'

export const REDRAW_DELAY_MS = 150
/** Tickets drawn at most; a longer job says how many more it has. */
export const MAX_TICKETS_SHOWN = 20
/** Findings listed at most (the first, by position); the summary counts them all. */
export const MAX_FINDINGS_SHOWN = 100

export interface PreviewUi {
  ticket: HTMLTextAreaElement
  size: HTMLSelectElement
  tickets: HTMLElement
  status: HTMLElement
  lintSummary: HTMLElement
  lintList: HTMLUListElement
}

export interface PreviewRenderer { renderPreview: typeof renderPreview }

export interface PreviewPanelDeps {
  ui: PreviewUi
  /** Loads the renderer (`import('/preview.js')` in the page). */
  loadRenderer: () => Promise<PreviewRenderer>
}

export class PreviewPanel {
  private readonly deps: PreviewPanelDeps
  private renderer: PreviewRenderer | undefined
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor (deps: PreviewPanelDeps) {
    this.deps = deps
  }

  /** Listens to the editor; the renderer is loaded by `load()`. */
  start (): void {
    const { ui } = this.deps
    ui.ticket.addEventListener('input', () => this.schedule())
    ui.size.addEventListener('change', () => this.redraw())
    ui.status.textContent = 'Loading the preview…'
  }

  /** Loads the renderer, then draws. The page calls it once it has started connecting: printing comes first. */
  load (): void {
    const { ui } = this.deps
    this.deps.loadRenderer().then(
      (renderer) => { this.renderer = renderer; this.redraw() },
      (error: unknown) => {
        ui.status.textContent = `The preview could not be loaded (${error instanceof Error ? error.message : String(error)}). Printing works without it; reload the page to try again.`
      }
    )
  }

  /** Redraws after the editor has been quiet for REDRAW_DELAY_MS. */
  schedule (): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.redraw(), REDRAW_DELAY_MS)
  }

  /** Redraws now (a template was loaded, the size changed). */
  redraw (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const { renderer } = this
    if (renderer === undefined) return
    const { ui } = this.deps
    const job = jobBytes(ui.ticket.value)
    const [sizeText, dpiText] = ui.size.value.split('@')
    const size = parseTicketSize(sizeText ?? '') ?? { widthIn: 2, lengthIn: 5.5 }
    const dpi = parseDpi(dpiText ?? '') ?? 200
    const started = performance.now()
    let preview: PagePreview
    try {
      preview = renderer.renderPreview(job.bytes, size, dpi, MAX_TICKETS_SHOWN)
    } catch (error) {
      // The renderer never throws by design (a property test holds it); if it does, say so and keep the editor.
      ui.tickets.replaceChildren()
      ui.status.textContent = `The preview failed on this ticket: ${error instanceof Error ? error.message : String(error)}`
      return
    }
    const ms = performance.now() - started
    this.drawTickets(preview)
    this.listFindings(preview.findings, job)
    ui.tickets.dataset.drawnMs = ms.toFixed(1)
    ui.status.textContent = statusText(preview, ms)
  }

  private drawTickets (preview: PagePreview): void {
    const figures = preview.svgs.map((svg, i) => {
      const figure = document.createElement('figure')
      figure.className = 'ticket-figure'
      const paper = document.createElement('div')
      paper.className = 'ticket-paper'
      paper.append(svgElement(svg))
      const caption = document.createElement('figcaption')
      caption.textContent = `Ticket ${i + 1} of ${preview.count}` + (preview.ended[i] === true ? '' : ' (no <p> or <q> yet: the printer would not print it)')
      figure.append(paper, caption)
      return figure
    })
    this.deps.ui.tickets.replaceChildren(...figures)
  }

  private listFindings (findings: Finding[], job: JobBytes): void {
    const { ui } = this.deps
    const errors = findings.filter((finding) => finding.severity === 'error').length
    const warnings = findings.length - errors
    ui.lintSummary.textContent = findings.length === 0
      ? 'No problems found.'
      : `${plural(errors, 'error')}, ${plural(warnings, 'warning')}${findings.length > MAX_FINDINGS_SHOWN ? ` (the first ${MAX_FINDINGS_SHOWN} listed)` : ''}. Choose one to select it in the ticket.`
    ui.lintList.replaceChildren(...findings.slice(0, MAX_FINDINGS_SHOWN).map((finding, i) => this.findingItem(finding, i, job)))
  }

  private findingItem (finding: Finding, i: number, job: JobBytes): HTMLLIElement {
    const item = document.createElement('li')
    item.dataset.severity = finding.severity
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'finding'
    button.dataset.code = finding.code
    const where = span('finding-where', `${finding.line}:${finding.column}`)
    const severity = span('finding-severity', finding.severity)
    const code = document.createElement('code')
    code.textContent = finding.code
    const message = span('finding-message', finding.message)
    message.id = `finding-${i}`
    button.append(where, severity, code, message)
    // Named by place and code, described by the message (which may say anything, "print" included).
    button.setAttribute('aria-label', `Line ${finding.line}, column ${finding.column}: ${finding.severity} ${finding.code}`)
    button.setAttribute('aria-describedby', message.id)
    button.addEventListener('click', () => this.select(job.charAt(finding.start), job.charAt(Math.max(finding.end, finding.start))))
    item.append(button)
    return item
  }

  /** Selects text [from, to) in the editor and scrolls it into view. */
  private select (from: number, to: number): void {
    const { ticket } = this.deps.ui
    ticket.focus()
    ticket.setSelectionRange(from, to)
    const line = ticket.value.slice(0, from).split('\n').length - 1
    const lineHeight = Number.parseFloat(getComputedStyle(ticket).lineHeight) || 20
    const top = line * lineHeight
    if (top < ticket.scrollTop || top > ticket.scrollTop + ticket.clientHeight - lineHeight) ticket.scrollTop = Math.max(0, top - lineHeight * 2)
  }
}

/** The SVG text as an element (parsed as XML: what is not SVG is not inserted). */
function svgElement (svg: string): Element {
  const parsed = new DOMParser().parseFromString(svg, 'image/svg+xml').documentElement
  if (parsed.namespaceURI !== 'http://www.w3.org/2000/svg' || parsed.nodeName !== 'svg') return span('hint', 'This ticket could not be drawn.')
  return document.importNode(parsed, true)
}

function statusText (preview: PagePreview, ms: number): string {
  const size = `${preview.columns} × ${preview.rows} dots`
  if (preview.count === 0) return `Nothing to preview yet (${size}).`
  const more = preview.count > preview.svgs.length ? `, the first ${preview.svgs.length} drawn` : ''
  return `${plural(preview.count, 'ticket')}${more}, ${size}, drawn in ${Math.max(1, Math.round(ms))} ms.`
}

function span (className: string, text: string): HTMLSpanElement {
  const element = document.createElement('span')
  element.className = className
  element.textContent = text
  return element
}

function plural (n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
