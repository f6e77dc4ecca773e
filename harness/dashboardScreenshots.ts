/**
 * `npx tsx harness/dashboardScreenshots.ts`: the README's pictures of the dashboard (docs/dashboard-desktop.png at
 * 1280×800, docs/dashboard-phone.png at 390×844), taken in Chromium against real parts on loopback: a broker, two
 * simulated printers and their relay, a few jobs (printed, failed, one waiting for a printer out of paper).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchChromium } from './browser.ts'
import { TestClient } from './mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from './parts.ts'

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs')

const cleanup = new Cleanup()
try {
  const broker = cleanup.add(await startBroker())
  const lobby = cleanup.add(await startPrinter())
  const bar = cleanup.add(await startPrinter())
  cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby, bar }, await tempDir(cleanup), { RELAY_ID: 'venue-relay-1' })))
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/+/responses', 'printers/+/errors', 'printers/+/status')
  await client.waitFor((m) => m.topic === 'printers/bar/status' && m.json?.state === 'online', 10_000, 'bar online')
  for (const [printer, id] of [['lobby', 'order-1041-1'], ['lobby', 'order-1041-2'], ['bar', 'bar-tab-88']] as const) {
    await client.publish(`printers/${printer}/jobs`, JSON.stringify({ id, data: `<RC10,10><F3>${id}<p>` }))
    await client.outcome(printer, id)
  }
  await client.publish('printers/stage/jobs', JSON.stringify({ id: 'order-1042-1', data: 'x<p>' }))
  await bar.setState('paper-out')
  await client.publish('printers/bar/jobs', JSON.stringify({ id: 'bar-tab-89', data: '<RC10,10><F3>bar tab 89<p>' }))
  await client.waitFor((m) => m.topic === 'printers/bar/errors' && m.json?.jobId === 'bar-tab-89', 10_000, 'bar paper out')

  const browser = await launchChromium()
  cleanup.defer(() => browser.close())
  for (const [name, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
    const context = await browser.newContext({ viewport, colorScheme: 'light' })
    const page = await context.newPage()
    await page.goto(`${broker.httpUrl}/dashboard`)
    await page.locator('#dashboard[data-stale="false"]').waitFor()
    await page.locator('#job-table tbody tr[data-job-id="bar-tab-89"]').waitFor()
    await page.locator('#printer-table tbody tr[data-printer-id="bar"] td[data-label="Printed today"]:text("1")').waitFor()
    const file = path.join(DOCS, `dashboard-${name}.png`)
    await page.screenshot({ path: file, fullPage: name === 'phone' })
    console.log(`wrote ${file}`)
    await context.close()
  }
} finally {
  await cleanup.closeAll()
}
