/**
 * `npx tsx harness/pageScreenshots.ts`: the README's pictures of the print page with its ticket preview
 * (docs/page-desktop.png at 1280 wide, docs/page-phone.png at 390 wide, whole pages), taken in Chromium against
 * real parts on loopback wired as `npm start` wires them: a broker serving the simulated printer `demo`'s tickets,
 * the printer, its relay. The concert template is loaded, printed, and a second ticket with a lint finding typed.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadBrokerConfig } from '../broker/config.ts'
import { PrintwireBroker } from '../broker/mqttBroker.ts'
import { SIMULATOR_TICKETS_PATH } from '../protocol/pageConfig.ts'
import { PrintedTickets } from '../printer-sim/printedTickets.ts'
import { printedTicketsRouter } from '../printer-sim/printedTicketsRouter.ts'
import { silentLogger } from '../runtime/logger.ts'
import { launchChromium } from './browser.ts'
import { Cleanup, relayEnv, startPrinter, startRelay, tempDir } from './parts.ts'

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs')

const cleanup = new Cleanup()
try {
  const logger = silentLogger()
  const printer = cleanup.add(await startPrinter())
  const tickets = cleanup.add(new PrintedTickets({ simulator: printer, printerId: 'demo', logger }))
  await tickets.start()
  const broker = new PrintwireBroker({
    config: loadBrokerConfig({ PORT: '0', MQTT_PORT: '0', PERSISTENCE: 'memory' }),
    logger,
    simulatorTickets: { config: { printerId: 'demo', ticketsPath: SIMULATOR_TICKETS_PATH }, router: printedTicketsRouter({ tickets, logger }) }
  })
  await broker.start()
  cleanup.add(broker)
  cleanup.add(await startRelay(relayEnv(`mqtt://127.0.0.1:${broker.mqttPort}`, { demo: printer }, await tempDir(cleanup))))

  const browser = await launchChromium()
  cleanup.defer(() => browser.close())
  for (const [name, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
    const context = await browser.newContext({ viewport, colorScheme: 'light' })
    const page = await context.newPage()
    await page.goto(`http://127.0.0.1:${broker.httpPort}/`)
    await page.locator('#printer option[value="demo"]').waitFor({ state: 'attached' })
    await page.getByRole('combobox', { name: 'Printer' }).selectOption('demo')
    await page.getByRole('combobox', { name: 'Start from a template' }).selectOption('concert-qr')
    await page.locator('#preview-tickets svg').waitFor()
    await page.getByRole('button', { name: 'Print', exact: true }).click()
    await page.locator('#printed-image:not([hidden])').waitFor()
    await page.locator('#printed-image').evaluate((img) => (img as HTMLImageElement).decode())
    const editor = page.getByRole('textbox', { name: 'Ticket (FGL)' })
    await editor.press('Control+End')
    await editor.pressSequentially('<RC10,40><F3>Door B<rc20,40><p>')
    await page.locator('#lint-list li').waitFor()
    await page.evaluate(() => { window.scrollTo(0, 0) })
    await page.screenshot({ path: path.join(DOCS, `page-${name}.png`), fullPage: true })
    await context.close()
  }
} finally {
  await cleanup.closeAll()
}
