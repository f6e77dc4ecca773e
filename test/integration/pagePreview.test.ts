/**
 * The print page's ticket preview in real headless Chromium (playwright-core), served by the embedded broker:
 * typing redraws the inline SVG, a bad command becomes a lint finding whose button selects its characters in
 * the editor, templates load (and undo), the `<G#>` logo template prints byte for byte through the relay to the
 * simulated printer, and a phone-sized window has no horizontal scroll. The renderer is `/preview.js`, not the page's script.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { browserSuite } from './browserSuite.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const WAIT_MS = 10_000

const cleanup = new Cleanup()

const browser = browserSuite(cleanup)

async function openPage (broker: StartedBroker, viewport = { width: 1280, height: 800 }): Promise<Page> {
  return await browser.open(broker.httpUrl, { viewport })
}

async function brokerOnly (): Promise<StartedBroker> {
  const broker = await startBroker()
  cleanup.add(broker)
  return broker
}

/** Replaces the editor's text by typing (input events, as a person). */
async function typeTicket (page: Page, text: string): Promise<void> {
  const editor = page.getByRole('textbox', { name: 'Ticket (FGL)' })
  await editor.fill('')
  await editor.pressSequentially(text)
}

/** The text drawn in the preview's SVGs. */
function drawnText (page: Page): Promise<string> {
  return page.locator('#preview-tickets svg text').allTextContents().then((texts) => texts.join('|'))
}

describe('the page\'s ticket preview', () => {
  it('draws the ticket as inline SVG, named as the preview, and redraws it as you type, one picture a ticket', async () => {
    const page = await openPage(await brokerOnly())
    const first = page.getByRole('img', { name: 'Ticket preview, ticket 1 of 1' })
    // The page's starting ticket, drawn once the renderer has loaded.
    await expect.poll(() => first.count(), { timeout: WAIT_MS }).toBe(1)
    expect(await drawnText(page)).toContain('Hello from Printwire')
    expect(await first.evaluate((svg) => svg.tagName.toLowerCase())).toBe('svg')
    expect(await page.getByRole('group', { name: 'Ticket preview' }).count()).toBe(1)

    await typeTicket(page, '<RC20,30><F6>Row F seat 12<p>')
    await expect.poll(() => drawnText(page), { timeout: WAIT_MS }).toBe('Row F seat 12')
    expect(await page.locator('#lint-summary').textContent()).toBe('No problems found.')

    await page.getByRole('textbox', { name: 'Ticket (FGL)' }).press('End')
    await page.getByRole('textbox', { name: 'Ticket (FGL)' }).pressSequentially('<RC20,30><F3>Second<p>')
    await expect.poll(() => page.getByRole('img', { name: 'Ticket preview, ticket 2 of 2' }).count(), { timeout: WAIT_MS }).toBe(1)
    expect(await page.getByRole('img', { name: 'Ticket preview, ticket 1 of 2' }).count()).toBe(1)
    expect(await page.locator('#preview-tickets figcaption').allTextContents()).toEqual(['Ticket 1 of 2', 'Ticket 2 of 2'])

    // Another size: the SVG is that many dots (3.25" × 5.5" at 200 dpi: 1050 × 624).
    await page.getByRole('combobox', { name: 'Ticket size' }).selectOption('3.25x5.5@200')
    await expect.poll(() => first.or(page.getByRole('img', { name: 'Ticket preview, ticket 1 of 2' })).getAttribute('viewBox'), { timeout: WAIT_MS }).toBe('0 0 1050 624')
  })

  it('lists a bad command with its line:column and code, and choosing it (click or Enter) selects it in the editor', async () => {
    const page = await openPage(await brokerOnly())
    // Multi-byte characters before it: the finding's byte offsets are not the editor's character offsets.
    const text = '<RC10,10><F3>Café €5 ✓<p>\n<RC40,10><ZZ1><F3>Après<p>'
    await typeTicket(page, text)
    const finding = page.getByRole('button', { name: 'Line 2, column 10: warning FGL_UNKNOWN_COMMAND' })
    await expect.poll(() => finding.count(), { timeout: WAIT_MS }).toBe(1)
    expect(await finding.innerText()).toMatch(/^2:10\s+warning\s+FGL_UNKNOWN_COMMAND\s+unknown command <ZZ1>: not drawn$/i)
    const selection = (): Promise<[number, number, string, boolean]> => page.evaluate(() => {
      const editor = document.getElementById('ticket') as HTMLTextAreaElement
      return [editor.selectionStart, editor.selectionEnd, editor.value.slice(editor.selectionStart, editor.selectionEnd), document.activeElement === editor]
    })
    const at = text.indexOf('<ZZ1>')
    await finding.click()
    expect(await selection()).toEqual([at, at + 5, '<ZZ1>', true])

    // By keyboard: move the caret away, then Enter on the finding.
    await page.evaluate(() => { (document.getElementById('ticket') as HTMLTextAreaElement).setSelectionRange(0, 0) })
    await finding.focus()
    await finding.press('Enter')
    expect(await selection()).toEqual([at, at + 5, '<ZZ1>', true])

    // An error: a ticket with no end. Fixed, the list empties.
    await page.getByRole('textbox', { name: 'Ticket (FGL)' }).press('End')
    await page.getByRole('textbox', { name: 'Ticket (FGL)' }).pressSequentially('\n<RC1,1>Tail')
    await expect.poll(() => page.locator('#lint-list li[data-severity="error"] code').allTextContents(), { timeout: WAIT_MS }).toEqual(['FGL_NO_TICKET_END'])
    await typeTicket(page, '<RC10,10><F3>Fine<p>')
    await expect.poll(() => page.locator('#lint-list li').count(), { timeout: WAIT_MS }).toBe(0)
    expect(await page.locator('#lint-summary').textContent()).toBe('No problems found.')
  })

  it('loads a template into the editor and draws it; Undo puts back what was typed', async () => {
    const page = await openPage(await brokerOnly())
    await typeTicket(page, '<RC10,10><F3>Mine<p>')
    await expect.poll(() => drawnText(page), { timeout: WAIT_MS }).toBe('Mine')
    await page.getByRole('combobox', { name: 'Start from a template' }).selectOption({ label: 'Parking ticket with Code 128' })
    const editor = page.getByRole('textbox', { name: 'Ticket (FGL)' })
    await expect.poll(() => editor.inputValue(), { timeout: WAIT_MS }).toBe(await readFile(path.join(ROOT, 'examples/tickets/parking-code128.fgl'), 'utf8'))
    await expect.poll(() => drawnText(page), { timeout: WAIT_MS }).toContain('CITY PARKING')
    expect(await drawnText(page)).toContain('P2-114-20260314-0842') // the barcode's human-readable line
    expect(await page.locator('#lint-list li').count()).toBe(0)

    await page.getByRole('button', { name: 'Undo' }).click()
    expect(await editor.inputValue()).toBe('<RC10,10><F3>Mine<p>')
    await expect.poll(() => drawnText(page), { timeout: WAIT_MS }).toBe('Mine')
    expect(await page.getByRole('button', { name: 'Undo' }).isVisible()).toBe(false)
  })

  it('prints the <G#> logo template byte for byte: its raw graphics bytes survive the editor', async () => {
    const broker = await brokerOnly()
    const sim = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { demo: sim }, await tempDir(cleanup))))
    const page = await openPage(broker)
    await page.getByRole('combobox', { name: 'Start from a template' }).selectOption({ label: 'Museum ticket with a <G#> logo' })
    await expect.poll(() => drawnText(page), { timeout: WAIT_MS }).toContain('PRINTWIRE')
    // Graphics draw as one path of dot runs; the logo has hundreds of them.
    expect(await page.locator('#preview-tickets svg > path').count()).toBeGreaterThan(0)
    expect(await page.locator('#template-note').textContent()).not.toMatch(/changed/)

    const option = page.locator('#printer option[value="demo"]')
    await expect.poll(() => option.count(), { timeout: WAIT_MS }).toBe(1)
    await page.getByRole('combobox', { name: 'Printer' }).selectOption('demo')
    await page.getByRole('button', { name: 'Print', exact: true }).click()
    const [printed] = await sim.waitForTickets(1, WAIT_MS)
    const file = await readFile(path.join(ROOT, 'examples/tickets/logo-graphics.fgl'))
    // The ticket is the file up to its <p>; the line break after it reached the printer too.
    expect(printed?.bytes).toEqual(file.subarray(0, file.lastIndexOf('<p>') + 3))
    await expect.poll(() => sim.received, { timeout: WAIT_MS }).toBe(file.length)
  })

  it('fits a phone: the preview is under the editor and nothing scrolls sideways', async () => {
    const page = await openPage(await brokerOnly(), { width: 390, height: 844 })
    await page.getByRole('combobox', { name: 'Start from a template' }).selectOption({ label: 'Concert ticket with a QR code' })
    await expect.poll(() => drawnText(page), { timeout: WAIT_MS }).toContain('THE NIGHT OWLS')
    const layout = await page.evaluate(() => {
      const editor = (document.getElementById('ticket') as HTMLElement).getBoundingClientRect()
      const preview = (document.getElementById('preview-tickets') as HTMLElement).getBoundingClientRect()
      return { scrollWidth: document.documentElement.scrollWidth, width: document.documentElement.clientWidth, editorBottom: editor.bottom, previewTop: preview.top, previewRight: preview.right }
    })
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.width)
    expect(layout.previewTop).toBeGreaterThan(layout.editorBottom)
    expect(layout.previewRight).toBeLessThanOrEqual(layout.width)
  })

  it('prints without the preview when its renderer cannot load, and says so', async () => {
    const broker = await brokerOnly()
    const sim = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { demo: sim }, await tempDir(cleanup))))
    // (Playwright's default viewport; errors of the failed load not counted.)
    const page = await browser.tab({ viewport: { width: 1280, height: 720 }, recordErrors: false })
    // The network fails for the renderer only (a proxy that drops it, an old cache): the page's own script runs.
    await page.route('**/preview.js', (route) => route.abort('connectionfailed'))
    await page.goto(broker.httpUrl)
    await expect.poll(() => page.locator('#preview-status').textContent(), { timeout: WAIT_MS }).toMatch(/^The preview could not be loaded \(.+\)\. Printing works without it; reload the page to try again\.$/)
    expect(await page.locator('#preview-tickets svg').count()).toBe(0)
    const option = page.locator('#printer option[value="demo"]')
    await expect.poll(() => option.count(), { timeout: WAIT_MS }).toBe(1)
    await page.getByRole('combobox', { name: 'Printer' }).selectOption('demo')
    await page.getByRole('button', { name: 'Print', exact: true }).click()
    const [printed] = await sim.waitForTickets(1, WAIT_MS)
    expect(printed?.bytes.toString()).toBe('<RC10,10><F3>Hello from Printwire<p>')
  })

  it('keeps the ticket as it was when a template cannot be fetched, and says why', async () => {
    const page = await openPage(await brokerOnly())
    await typeTicket(page, '<RC10,10><F3>Mine<p>')
    await page.route('**/templates/*.fgl', (route) => route.fulfill({ status: 503, body: 'busy' }))
    await page.getByRole('combobox', { name: 'Start from a template' }).selectOption({ label: 'Concert ticket with a QR code' })
    await expect.poll(() => page.locator('#template-note-text').textContent(), { timeout: WAIT_MS }).toBe('Could not load “Concert ticket with a QR code”: the server answered HTTP 503. The ticket is unchanged.')
    expect(await page.getByRole('textbox', { name: 'Ticket (FGL)' }).inputValue()).toBe('<RC10,10><F3>Mine<p>')
    expect(await page.getByRole('button', { name: 'Undo' }).isVisible()).toBe(false)
    expect(await page.getByRole('combobox', { name: 'Start from a template' }).inputValue()).toBe('')
  })

  it('serves the renderer as /preview.js, apart from the page\'s script, and the templates as bytes', async () => {
    const broker = await brokerOnly()
    const app = await fetch(`${broker.httpUrl}/app.js`).then((response) => response.text())
    const preview = await fetch(`${broker.httpUrl}/preview.js`)
    expect(preview.status).toBe(200)
    expect(preview.headers.get('content-type')).toMatch(/javascript/)
    const renderer = await preview.text()
    // bwip-js (barcodes) is in the renderer only, so the page prints before the renderer has loaded.
    expect(renderer).toMatch(/bwipp/)
    expect(app).not.toMatch(/bwipp/)
    expect(app.length).toBeLessThan(renderer.length)

    const logo = await fetch(`${broker.httpUrl}/templates/logo-graphics.fgl`)
    expect(logo.status).toBe(200)
    expect(logo.headers.get('content-type')).toBe('application/octet-stream')
    expect(Buffer.from(await logo.arrayBuffer())).toEqual(await readFile(path.join(ROOT, 'examples/tickets/logo-graphics.fgl')))
    for (const other of ['/templates/README.md', '/templates/..%2Fpackage.json', '/templates/%2E%2E%2Fweb%2Fpage%2Findex.html', '/templates/nothing.fgl', '/templates/']) {
      const answer = await fetch(`${broker.httpUrl}${other}`)
      expect(answer.status, other).toBe(404)
      expect(await answer.text(), other).not.toMatch(/node_modules|at \w+ \(/) // no stack trace, no path
    }
  })
})
