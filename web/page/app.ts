/**
 * The Printwire page's entry (bundled as `/app.js` by web/server/pageBundle.ts): reads the broker's settings
 * from `/config.json`, then runs the print page (printPage.ts). Without those settings it does not connect:
 * it would print under a topic prefix or a job limit the broker does not use.
 */
import { PREVIEW_SCRIPT_PATH } from '../../protocol/pageConfig.ts'
import { findPageElements, showNotice, type PageElements } from './pageElements.ts'
import { PreviewPanel, type PreviewRenderer } from './previewPanel.ts'
import { PrintPage } from './printPage.ts'
import { fetchPageConfig } from './serverConfig.ts'
import { TemplatePicker } from './templates.ts'

/** The renderer is a script of its own (most of the page's weight): loaded once the page runs, not bundled in. */
function loadRenderer (): Promise<PreviewRenderer> {
  const url: string = PREVIEW_SCRIPT_PATH
  return import(url) as Promise<PreviewRenderer>
}

/** The preview and the templates work without the broker: they start first, whatever happens next. */
function startPreview (ui: PageElements): PreviewPanel {
  const preview = new PreviewPanel({ ui: ui.preview, loadRenderer })
  preview.start()
  new TemplatePicker({ ui: ui.templates, onChange: () => preview.redraw(), fetch: (input, init) => fetch(input, init) }).start()
  return preview
}

/**
 * The renderer (about 1 MB of script to fetch and compile) once the page has started connecting and the browser
 * is idle, or within a second: it never stands between opening the page and printing.
 */
function loadPreviewSoon (preview: PreviewPanel): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(() => preview.load(), { timeout: 1000 })
  else setTimeout(() => preview.load(), 0)
}

async function start (ui: PageElements): Promise<void> {
  const preview = startPreview(ui)
  let config
  try {
    config = await fetchPageConfig()
  } catch (error) {
    cannotStart(ui, error instanceof Error ? error.message : String(error))
    loadPreviewSoon(preview)
    return
  }
  new PrintPage({ ui, config, location, history, storage: sessionStorage, fetch: (input, init) => fetch(input, init) }).start()
  loadPreviewSoon(preview)
}

function cannotStart (ui: PageElements, why: string): void {
  showNotice(ui.notice, `This page cannot read the broker's settings: ${why}. Reload the page; if this persists, the web server is not a Printwire page server of this version.`)
  ui.connection.dataset.state = 'disconnected'
  ui.connection.textContent = 'Not connected: no broker settings.'
  ui.printForm.print.disabled = true
  ui.printForm.printer.disabled = true
  ui.printForm.printReason.textContent = 'Printing needs the broker\'s settings (/config.json).'
}

void start(findPageElements())
