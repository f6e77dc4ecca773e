/**
 * The print page's printer choice and stale marking, in real headless Chromium against real parts: the only
 * printer is chosen for the user, "No printer has reported yet." is said only while no printer is listed, and
 * while the page is disconnected the server time and every printer's state are marked stale, until it reconnects.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { browserSuite } from './browserSuite.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { freePorts } from '../../harness/ports.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'

const WAIT_MS = 10_000
const cleanup = new Cleanup()

const browser = browserSuite(cleanup)

async function openPage (httpUrl: string): Promise<Page> {
  const page = await browser.open(httpUrl, { viewport: { width: 1100, height: 820 } })
  await expect.poll(() => page.locator('#connection').getAttribute('data-state'), { timeout: WAIT_MS }).toBe('connected')
  return page
}

/** A broker that stops once, whether the test or the cleanup stops it. */
function stoppedOnce (broker: StartedBroker): StartedBroker {
  let stopping: Promise<void> | undefined
  const once = { ...broker, stop: () => (stopping ??= broker.stop()) }
  cleanup.add(once)
  return once
}

describe('print page: printer choice and stale marking', () => {
  it('says no printer has reported only while none is listed, chooses the only printer, and leaves the user\'s choice alone', async () => {
    const broker = cleanup.add(await startBroker())
    const page = await openPage(broker.httpUrl)
    const reason = page.locator('#print-reason')
    const select = page.getByRole('combobox', { name: 'Printer' })
    await expect.poll(() => reason.textContent(), { timeout: WAIT_MS }).toBe('No printer has reported yet.')

    const sim = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { demo: sim }, await tempDir(cleanup))))
    await expect.poll(() => select.inputValue(), { timeout: WAIT_MS }).toBe('demo')
    expect(await reason.textContent()).toBe('')
    expect(await page.getByRole('button', { name: 'Print' }).isEnabled()).toBe(true)

    // The user picks "Choose a printer…": the page asks, and a status update does not choose for them again.
    await select.selectOption('')
    expect(await reason.textContent()).toBe('Choose a printer first.')
    await sim.setState('paper-out')
    // The relay learns of it with its next job (from another client here), and says so in the status.
    const other = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await other.publish('printers/demo/jobs', JSON.stringify({ id: 'finds-paper-out', data: '<RC1,1>x<p>' }))
    await expect.poll(() => page.locator('#printer option[value="demo"]').textContent(), { timeout: WAIT_MS }).toMatch(/error/)
    expect(await select.inputValue()).toBe('')
    expect(await reason.textContent()).toBe('Choose a printer first.')
  })

  it('marks the server time and the printers\' states stale while disconnected, and clears that on reconnecting', async () => {
    const [mqttPort, httpPort] = await freePorts(2)
    const env = { MQTT_PORT: String(mqttPort), PORT: String(httpPort), SERVER_TIME_INTERVAL_MS: '250' }
    const first = stoppedOnce(await startBroker(env))
    const sim = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(first.mqttUrl, { demo: sim }, await tempDir(cleanup), { RETRY_MAX_MS: '200' })))
    const page = await openPage(first.httpUrl)
    const time = page.locator('#server-time')
    const option = page.locator('#printer option[value="demo"]')
    await expect.poll(() => time.getAttribute('datetime'), { timeout: WAIT_MS }).toMatch(/^\d{4}-/)
    await expect.poll(() => option.textContent(), { timeout: WAIT_MS }).toBe('demo — online')
    expect(await time.getAttribute('data-stale')).toBe('false')

    await first.stop()
    await expect.poll(() => time.getAttribute('data-stale'), { timeout: WAIT_MS }).toBe('true')
    expect(await option.textContent()).toBe('demo — online (stale: not connected)')
    expect(await page.locator('#printer').getAttribute('data-stale')).toBe('true')
    expect(await page.locator('#printer-hint').textContent()).toMatch(/Not connected: demo's state \(online\) is the last one seen/)
    const frozen = await time.getAttribute('datetime')

    // The broker is back on the same ports: the page reconnects, and the marks go.
    stoppedOnce(await startBroker(env))
    await expect.poll(() => time.getAttribute('data-stale'), { timeout: 20_000 }).toBe('false')
    await expect.poll(() => option.textContent(), { timeout: WAIT_MS }).toBe('demo — online')
    expect(await page.locator('#printer').getAttribute('data-stale')).toBe('false')
    await expect.poll(() => time.getAttribute('datetime'), { timeout: WAIT_MS }).not.toBe(frozen)
  })
})
