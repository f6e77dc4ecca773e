/**
 * Starting templates for the ticket editor: examples/tickets/*.fgl, fetched as bytes from the page server
 * (`/templates/<name>.fgl`) and put in the editor as text the page prints back to the same bytes (jobText.ts:
 * the `<G#>` logo's raw graphics bytes stay one character a byte). Loading one replaces the editor's text, and
 * Undo (beside the select) puts back what was there.
 */
import { TEMPLATES_PATH } from '../../protocol/pageConfig.ts'
import { jobBytes, jobText } from './jobText.ts'

export interface TicketTemplate {
  /** examples/tickets/<name>.fgl */
  name: string
  label: string
}

export const TEMPLATES: readonly TicketTemplate[] = [
  { name: 'concert-qr', label: 'Concert ticket with a QR code' },
  { name: 'parking-code128', label: 'Parking ticket with Code 128' },
  { name: 'logo-graphics', label: 'Museum ticket with a <G#> logo' }
]

export interface TemplateUi {
  select: HTMLSelectElement
  ticket: HTMLTextAreaElement
  note: HTMLElement
  noteText: HTMLElement
  undo: HTMLButtonElement
}

export interface TemplatePickerDeps {
  ui: TemplateUi
  /** The editor's text changed (redraw the preview). */
  onChange: () => void
  fetch: typeof fetch
}

export class TemplatePicker {
  private readonly deps: TemplatePickerDeps
  /** What the editor held before the last template replaced it. */
  private previous: string | undefined

  constructor (deps: TemplatePickerDeps) {
    this.deps = deps
  }

  start (): void {
    const { ui } = this.deps
    for (const template of TEMPLATES) ui.select.add(new Option(template.label, template.name))
    ui.select.addEventListener('change', () => { void this.load(ui.select.value) })
    ui.undo.addEventListener('click', () => this.undo())
  }

  private async load (name: string): Promise<void> {
    const { ui } = this.deps
    const template = TEMPLATES.find((candidate) => candidate.name === name)
    if (template === undefined) return
    ui.select.disabled = true
    try {
      const bytes = await this.fetchBytes(template)
      const previous = ui.ticket.value
      ui.ticket.value = jobText(bytes)
      this.previous = previous
      // The editor keeps text, not bytes: say so if this template's bytes did not survive it (a CR in graphics data).
      const same = sameBytes(jobBytes(ui.ticket.value).bytes, bytes)
      this.show(`Loaded “${template.label}”${same ? '' : ' (some of its bytes changed in the editor: check its graphics)'}.`, true)
      this.changed()
    } catch (error) {
      this.show(`Could not load “${template.label}”: ${error instanceof Error ? error.message : String(error)}. The ticket is unchanged.`, false)
    } finally {
      ui.select.value = ''
      ui.select.disabled = false
    }
  }

  private async fetchBytes (template: TicketTemplate): Promise<Uint8Array> {
    const response = await this.deps.fetch(`${TEMPLATES_PATH}/${template.name}.fgl`, { cache: 'no-store' })
    if (!response.ok) throw new Error(`the server answered HTTP ${response.status}`)
    return new Uint8Array(await response.arrayBuffer())
  }

  private undo (): void {
    const { ui } = this.deps
    if (this.previous === undefined) return
    ui.ticket.value = this.previous
    this.previous = undefined
    this.show('Your ticket is back.', false)
    ui.ticket.focus()
    this.changed()
  }

  /** As if typed (the print form clears its error), then redrawn at once. */
  private changed (): void {
    this.deps.ui.ticket.dispatchEvent(new Event('input'))
    this.deps.onChange()
  }

  private show (text: string, canUndo: boolean): void {
    const { ui } = this.deps
    ui.noteText.textContent = text
    ui.note.hidden = false
    ui.undo.hidden = !canUndo
  }
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}
