/**
 * The browser page end to end in real headless Chromium (playwright-core): page → mqtt.js over
 * WebSockets → embedded broker → relay → simulated Boca printer, and results back into the page.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { browserSuite } from './browserSuite.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'
import { TestClient } from '../../harness/mqttClient.ts'

const SCREENSHOT = '/tmp/printwire-page.png'
const WAIT_MS = 10_000

const cleanup = new Cleanup()

const browser = browserSuite(cleanup)

interface Setup {
  broker: StartedBroker
  sim: BocaSimulator
  page: Page
  /** Stops the broker once; cleanup stops it too unless the test already did. */
  stopBroker(): Promise<void>
}

/**
 * A broker (fast clock), a printer `demo`, a relay for it, and the page open in a fresh browser context.
 * `settings` (TOPIC_PREFIX, MAX_JOB_BYTES) go to both the broker and the relay; `beforeOpen` runs on the
 * page before it loads.
 */
async function setup (settings: Record<string, string> = {}, beforeOpen?: (page: Page) => Promise<void>): Promise<Setup> {
  const broker = await startBroker({ SERVER_TIME_INTERVAL_MS: '250', ...settings })
  let brokerStopping: Promise<void> | undefined
  const stopBroker = (): Promise<void> => (brokerStopping ??= broker.stop())
  cleanup.add({ stop: stopBroker })
  const sim = cleanup.add(await startPrinter())
  cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { demo: sim }, await tempDir(cleanup), settings)))
  const page = await browser.open(broker.httpUrl, { viewport: { width: 1100, height: 820 }, ...(beforeOpen === undefined ? {} : { beforeOpen }) })
  return { broker, sim, page, stopBroker }
}

async function waitConnected (page: Page): Promise<void> {
  const status = page.getByRole('status')
  await expect.poll(() => status.getAttribute('data-state'), { timeout: WAIT_MS }).toBe('connected')
  expect(await status.textContent()).toMatch(/connected/i)
}

/** Waits for `demo` to be listed with a state matching `state`, then picks it. */
async function choosePrinter (page: Page, id: string, state: RegExp): Promise<void> {
  const option = page.locator(`#printer option[value="${id}"]`)
  await expect.poll(() => option.count(), { timeout: WAIT_MS }).toBe(1)
  await expect.poll(() => option.textContent(), { timeout: WAIT_MS }).toMatch(state)
  await page.getByRole('combobox', { name: 'Printer' }).selectOption(id)
}

/** The newest job row, once its status is one of `statuses`. */
async function newestRow (page: Page, statuses: string[]): Promise<{ jobId: string, status: string, text: string }> {
  const row = page.locator('#job-log tbody tr').first()
  await expect.poll(() => row.getAttribute('data-status'), { timeout: WAIT_MS }).toMatch(new RegExp(`^(${statuses.join('|')})$`))
  return {
    jobId: (await row.getAttribute('data-job-id')) ?? '',
    status: (await row.getAttribute('data-status')) ?? '',
    text: (await row.innerText()).replace(/\s+/g, ' ')
  }
}

describe('web page', () => {
  it('prints a typed ticket on the chosen printer, shows the result live, and shows the server time', async () => {
    const { sim, page } = await setup()
    expect(await page.title()).toBe('Printwire')
    await waitConnected(page)

    const print = page.getByRole('button', { name: 'Print' })
    // Once the relay's printer is listed, it is chosen, being the only one (webPageState.test.ts has more).
    await page.locator('#printer option[value="demo"]').waitFor({ state: 'attached' })
    await expect.poll(async () => await page.getByRole('combobox', { name: 'Printer' }).inputValue()).toBe('demo')

    await choosePrinter(page, 'demo', /online/)
    expect(await print.isEnabled()).toBe(true)

    // Copies are checked in the page: nothing is sent.
    await page.getByRole('spinbutton', { name: 'Copies' }).fill('0')
    await print.click()
    expect(await page.locator('#copies-error').textContent()).toMatch(/1 to 100/)
    expect(await page.getByRole('spinbutton', { name: 'Copies' }).getAttribute('aria-invalid')).toBe('true')
    expect(await page.locator('#job-log tbody tr').count()).toBe(0)

    const ticket = '<RC10,10><F3>Web ticket Café ✓<RC60,10><F2>seat 12<p>'
    await page.getByRole('textbox', { name: 'Ticket (FGL)' }).fill(ticket)
    await page.getByRole('spinbutton', { name: 'Copies' }).fill('2')
    await print.click()

    const queued = page.locator('#job-log tbody tr').first()
    expect(await queued.innerText()).toMatch(/queued…|printed/)
    const row = await newestRow(page, ['printed'])
    expect(row.jobId).toMatch(/^web-\d+-[a-z0-9]+$/)
    const bytes = Buffer.byteLength(ticket, 'utf8')
    expect(row.text).toContain(row.jobId)
    expect(row.text).toContain('demo')
    expect(row.text).toContain('printed')
    expect(row.text).toContain(`${bytes * 2} bytes`)

    expect(sim.tickets).toHaveLength(2)
    for (const printed of sim.tickets) expect(printed.bytes.equals(Buffer.from(ticket, 'utf8'))).toBe(true)

    const time = page.getByLabel('Server time')
    await expect.poll(() => time.getAttribute('datetime'), { timeout: WAIT_MS }).toMatch(/^\d{4}-/)
    const first = (await time.getAttribute('datetime')) ?? ''
    expect(Number.isNaN(Date.parse(first))).toBe(false)
    expect(Math.abs(Date.parse(first) - Date.now())).toBeLessThan(5_000)
    expect((await time.textContent())?.trim()).not.toBe('—')
    await expect.poll(() => time.getAttribute('datetime'), { timeout: WAIT_MS }).not.toBe(first)

    await page.screenshot({ path: SCREENSHOT, fullPage: true })
  })

  it('shows a printer error on the job row (paper out), then the print once paper is loaded', async () => {
    const { sim, page } = await setup()
    await waitConnected(page)
    await choosePrinter(page, 'demo', /online/)
    await sim.setState('paper-out')

    await page.getByRole('textbox', { name: 'Ticket (FGL)' }).fill('<RC10,10>needs paper<p>')
    await page.getByRole('button', { name: 'Print' }).click()
    const failed = await newestRow(page, ['retrying', 'failed'])
    expect(failed.text).toContain('PRINTER_ERROR')
    expect(failed.text).toMatch(/paper/i)
    // The relay published the printer's state as well: the selector says so.
    await expect.poll(() => page.locator('#printer option[value="demo"]').textContent(), { timeout: WAIT_MS }).toMatch(/error.*paper/i)
    expect(sim.tickets).toHaveLength(0)

    await sim.setState('ready')
    const printed = await newestRow(page, ['printed'])
    expect(printed.jobId).toBe(failed.jobId)
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['<RC10,10>needs paper<p>'])
  })

  it('says it is disconnected, and disables Print, when the broker stops', async () => {
    const { page, stopBroker } = await setup()
    await waitConnected(page)
    await choosePrinter(page, 'demo', /online/)
    const print = page.getByRole('button', { name: 'Print' })
    expect(await print.isEnabled()).toBe(true)

    await stopBroker()
    const status = page.getByRole('status')
    await expect.poll(() => status.getAttribute('data-state'), { timeout: WAIT_MS }).toBe('disconnected')
    expect(await status.textContent()).toMatch(/disconnected/i)
    expect(await print.isDisabled()).toBe(true)
    expect(await page.locator('#print-reason').textContent()).toMatch(/not connected/i)
  })

  it('prints under the broker\'s topic prefix and refuses a job over its MAX_JOB_BYTES, both read from /config.json', async () => {
    const { broker, sim, page } = await setup({ TOPIC_PREFIX: 'venue', MAX_JOB_BYTES: '200' })
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('venue/demo/jobs', 'printers/#')
    await waitConnected(page)
    await choosePrinter(page, 'demo', /online/)

    const ticket = page.getByRole('textbox', { name: 'Ticket (FGL)' })
    const print = page.getByRole('button', { name: 'Print' })
    const fits = `<RC10,10>${'x'.repeat(200 - '<RC10,10><p>'.length)}<p>`
    await ticket.fill(fits)
    await print.click()
    const printed = await newestRow(page, ['printed'])
    const published = await watcher.waitFor((m) => m.topic === 'venue/demo/jobs')
    expect(JSON.parse(published.text)).toMatchObject({ id: printed.jobId, data: fits, encoding: 'utf8', copies: 1 })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual([fits])

    // One byte over the broker's limit (not the default 1 MiB): refused in the page, nothing published.
    await ticket.fill(`${fits}!`)
    await print.click()
    const error = page.locator('#ticket-error')
    await expect.poll(() => error.textContent(), { timeout: WAIT_MS }).toBe('The ticket is 201 bytes; jobs are limited to 200 bytes.')
    expect(await ticket.getAttribute('aria-invalid')).toBe('true')
    expect(await page.locator('#job-log tbody tr').count()).toBe(1)
    expect(watcher.messages.filter((m) => m.topic.endsWith('/jobs'))).toHaveLength(1)
    expect(watcher.messages.filter((m) => m.topic.startsWith('printers/'))).toEqual([])
  })

  for (const [what, answer] of [
    ['an HTTP error', { status: 500, body: 'boom' }],
    ['not JSON', { status: 200, contentType: 'application/json', body: '<html>' }],
    ['not a page config', { status: 200, contentType: 'application/json', body: '{"topicPrefix":"printers/#","maxJobBytes":1}' }]
  ] as const) {
    it(`says it cannot print, and does not connect, when /config.json is ${what}`, async () => {
      const { page } = await setup({}, async (p) => { await p.route('**/config.json', (route) => route.fulfill(answer)) })
      const notice = page.getByRole('alert').filter({ hasText: 'settings' })
      await expect.poll(() => notice.textContent(), { timeout: WAIT_MS }).toMatch(/cannot read the broker's settings: \/config\.json/)
      const status = page.getByRole('status')
      expect(await status.getAttribute('data-state')).toBe('disconnected')
      expect(await status.textContent()).toMatch(/not connected/i)
      expect(await page.getByRole('button', { name: 'Print' }).isDisabled()).toBe(true)
      expect(await page.locator('#print-reason').textContent()).toMatch(/config\.json/)
      expect(await page.getByRole('combobox', { name: 'Printer' }).isDisabled()).toBe(true)
      expect(await page.locator('#printer option[value="demo"]').count()).toBe(0)
    })
  }
})
