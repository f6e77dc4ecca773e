/**
 * The dashboard (`/dashboard`, SPEC "Operations") end to end in real headless Chromium: the page → the client
 * library over WebSockets and the HTTP API → a real broker (embedded, or Mosquitto behind `npm run web`) → a relay →
 * a simulated Boca printer. Printer states live, the shared job history (jobs of other clients, across a reload,
 * filters), cancel of a queued job, a test print, stale marking while disconnected, and "Forget" for an admin only.
 */
import path from 'node:path'
import mqtt from 'mqtt'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { browserSuite } from './browserSuite.ts'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers, type UserName } from '../../harness/accessTargets.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { freePorts } from '../../harness/ports.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { startVenue } from '../../harness/venue.ts'

const WAIT_MS = 15_000
const cleanup = new Cleanup()

const browser = browserSuite(cleanup)

async function openDashboard (httpUrl: string, viewport = { width: 1280, height: 800 }, search = ''): Promise<Page> {
  return await browser.open(`${httpUrl}/dashboard${search}`, { viewport })
}

async function waitConnected (page: Page): Promise<void> {
  await expect.poll(() => page.locator('#connection').getAttribute('data-state'), { timeout: WAIT_MS }).toBe('connected')
  await expect.poll(() => page.locator('#dashboard').getAttribute('data-stale'), { timeout: WAIT_MS }).toBe('false')
}

async function logIn (page: Page, user: UserName): Promise<void> {
  await page.getByRole('textbox', { name: 'User name' }).fill(user)
  await page.getByLabel('Password').fill(PASSWORDS[user])
  await page.getByRole('button', { name: 'Log in' }).click()
  await waitConnected(page)
}

const printerRow = (page: Page, id: string) => page.locator(`#printer-table tbody tr[data-printer-id="${id}"]`)
const jobRow = (page: Page, id: string) => page.locator(`#job-table tbody tr[data-job-id="${id}"]`)
const jobIds = async (page: Page): Promise<string[]> => await page.locator('#job-table tbody tr').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.jobId ?? ''))

describe('dashboard, embedded broker', () => {
  it('lists the printer with its state, since when and relay, and shows it go paper-out live', async () => {
    const { broker, printer } = await startVenue(cleanup)
    const page = await openDashboard(broker.httpUrl)
    expect(await page.title()).toBe('Printwire dashboard')
    await waitConnected(page)
    const row = printerRow(page, 'lobby')
    await expect.poll(() => row.getAttribute('data-state'), { timeout: WAIT_MS }).toBe('online')
    expect(await row.locator('td[data-label="Relay"]').textContent()).toBe('test-relay')
    expect(await row.locator('td[data-label="Since"] time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(await page.getByRole('table', { name: 'Printers' }).getByRole('rowheader', { name: 'lobby' }).count()).toBe(1)

    await printer.setState('paper-out')
    // The relay learns of it at its next job or status request: a job shows it.
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'needs-paper', data: '<RC1,1>x<p>' }))
    await expect.poll(() => row.getAttribute('data-state'), { timeout: WAIT_MS }).toBe('error')
    expect(await row.locator('td[data-label="State"]').innerText()).toMatch(/paper/i)
    await expect.poll(() => row.locator('td[data-label="Last error"]').innerText(), { timeout: WAIT_MS }).toMatch(/PRINTER_ERROR|paper/i)
  })

  it('shows the shared job history: a job of another client appears live, stays after a reload, and the filters narrow it', async () => {
    const { broker, printer } = await startVenue(cleanup)
    const page = await openDashboard(broker.httpUrl)
    await waitConnected(page)
    await expect.poll(() => page.locator('#jobs-empty').isVisible(), { timeout: WAIT_MS }).toBe(true)

    // Another client (as `printwire print` does): it appears with its outcome, and counts as printed today.
    const other = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await other.publish('printers/lobby/jobs', JSON.stringify({ id: 'from-cli', data: '<RC1,1>cli<p>' }))
    await expect.poll(() => jobRow(page, 'from-cli').getAttribute('data-status'), { timeout: WAIT_MS }).toBe('printed')
    await expect.poll(() => printerRow(page, 'lobby').locator('td[data-label="Printed today"]').textContent(), { timeout: WAIT_MS }).toBe('1')
    expect(printer.tickets).toHaveLength(1)
    // A job for a printer no relay serves: failed (NO_RELAY).
    await other.publish('printers/nowhere/jobs', JSON.stringify({ id: 'no-relay', data: 'x<p>' }))
    await expect.poll(() => jobRow(page, 'no-relay').getAttribute('data-status'), { timeout: WAIT_MS }).toBe('failed')
    expect(await jobRow(page, 'no-relay').innerText()).toContain('NO_RELAY')

    await page.reload()
    await waitConnected(page)
    await expect.poll(() => jobIds(page), { timeout: WAIT_MS }).toEqual(['no-relay', 'from-cli'])

    await page.getByRole('combobox', { name: 'Printer' }).selectOption('lobby')
    await expect.poll(() => jobIds(page), { timeout: WAIT_MS }).toEqual(['from-cli'])
    await page.getByRole('combobox', { name: 'Printer' }).selectOption('')
    await page.getByRole('combobox', { name: 'Outcome' }).selectOption('failed')
    await expect.poll(() => jobIds(page), { timeout: WAIT_MS }).toEqual(['no-relay'])
    // The filters are in the address: a reload keeps them.
    expect(new URL(page.url()).searchParams.get('state')).toBe('failed')
    await page.reload()
    await waitConnected(page)
    expect(await page.getByRole('combobox', { name: 'Outcome' }).inputValue()).toBe('failed')
    await expect.poll(() => jobIds(page), { timeout: WAIT_MS }).toEqual(['no-relay'])
    // Time: from tomorrow, nothing; up to tomorrow, everything.
    await page.getByRole('button', { name: 'Clear filters' }).click()
    await expect.poll(() => jobIds(page), { timeout: WAIT_MS }).toEqual(['no-relay', 'from-cli'])
    const tomorrow = new Date(Date.now() + 86_400_000)
    const local = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}T00:00:00`
    await page.getByLabel('From', { exact: true }).fill(local)
    await expect.poll(() => jobIds(page), { timeout: WAIT_MS }).toEqual([])
    expect(await page.locator('#jobs-empty').isVisible()).toBe(true)
    await page.getByLabel('From', { exact: true }).fill('')
    await page.getByLabel('To', { exact: true }).fill(local)
    await expect.poll(() => jobIds(page), { timeout: WAIT_MS }).toEqual(['no-relay', 'from-cli'])
  })

  it('cancels a job queued while its printer is offline: it is cancelled and never prints', async () => {
    const { broker, printer } = await startVenue(cleanup)
    const page = await openDashboard(broker.httpUrl)
    await waitConnected(page)
    await printer.setState('offline')
    const other = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await other.publish('printers/lobby/jobs', JSON.stringify({ id: 'queued-1', data: '<RC1,1>never<p>' }))
    const row = jobRow(page, 'queued-1')
    await expect.poll(() => row.getAttribute('data-status'), { timeout: WAIT_MS }).toBe('queued')
    await page.getByRole('button', { name: 'Cancel job queued-1' }).click()
    await expect.poll(() => row.getAttribute('data-status'), { timeout: WAIT_MS }).toBe('cancelled')
    expect(await row.innerText()).toContain('JOB_CANCELLED')
    expect(await page.locator('#job-action').textContent()).toBe('Job queued-1 cancelled: it will not print.')
    expect(await page.getByRole('button', { name: 'Cancel job queued-1' }).count()).toBe(0)
    await printer.setState('ready')
    // A job after it prints, the cancelled one never.
    await other.publish('printers/lobby/jobs', JSON.stringify({ id: 'after-1', data: '<RC1,1>after<p>' }))
    await expect.poll(() => jobRow(page, 'after-1').getAttribute('data-status'), { timeout: WAIT_MS }).toBe('printed')
    expect(printer.tickets.map((t) => t.bytes.toString())).toEqual(['<RC1,1>after<p>'])
  })

  it('prints a test ticket naming the printer, and says so', async () => {
    const { broker, printer } = await startVenue(cleanup)
    const page = await openDashboard(broker.httpUrl)
    await waitConnected(page)
    await expect.poll(() => printerRow(page, 'lobby').getAttribute('data-state'), { timeout: WAIT_MS }).toBe('online')
    await page.getByRole('button', { name: 'Test print on lobby' }).click()
    await expect.poll(() => page.locator('#printer-action').textContent(), { timeout: WAIT_MS }).toMatch(/printed on lobby/)
    expect(printer.tickets).toHaveLength(1)
    const ticket = printer.tickets[0]?.bytes.toString() ?? ''
    expect(ticket).toContain('Printer: lobby')
    expect(ticket).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/)
    expect(ticket.endsWith('<p>')).toBe(true)
    await expect.poll(() => page.locator('#job-table tbody tr[data-status="printed"]').count(), { timeout: WAIT_MS }).toBe(1)
  })

  it('marks everything stale while the broker is down, visibly and in data-stale, and clears that when it is back', async () => {
    const [mqttPort, httpPort] = await freePorts(2)
    const env = { MQTT_PORT: String(mqttPort), PORT: String(httpPort) }
    const first = await startBroker(env)
    let firstStopped: Promise<void> | undefined
    const stopFirst = (): Promise<void> => (firstStopped ??= first.stop())
    cleanup.add({ stop: stopFirst })
    const printer = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(first.mqttUrl, { lobby: printer }, await tempDir(cleanup), { RETRY_MAX_MS: '200' })))
    const page = await openDashboard(first.httpUrl)
    await waitConnected(page)
    await expect.poll(() => printerRow(page, 'lobby').getAttribute('data-state'), { timeout: WAIT_MS }).toBe('online')
    expect(await page.locator('#stale-banner').isVisible()).toBe(false)
    await stopFirst()
    await expect.poll(() => page.locator('#dashboard').getAttribute('data-stale'), { timeout: WAIT_MS }).toBe('true')
    expect(await page.locator('#printers').getAttribute('data-stale')).toBe('true')
    expect(await page.locator('#jobs').getAttribute('data-stale')).toBe('true')
    expect(await page.locator('#stale-banner').isVisible()).toBe(true)
    expect(await page.locator('#stale-banner').textContent()).toMatch(/Not connected since/)
    // The printer is still listed, marked stale, and its actions are off.
    expect(await printerRow(page, 'lobby').innerText()).toMatch(/online \(stale\)/)
    expect(await page.getByRole('button', { name: 'Test print on lobby' }).isDisabled()).toBe(true)

    // Back on the same ports: the page reconnects, the marks go, and the actions work again.
    cleanup.add(await startBroker(env))
    await waitConnected(page)
    expect(await page.locator('#stale-banner').isVisible()).toBe(false)
    await expect.poll(() => printerRow(page, 'lobby').innerText(), { timeout: WAIT_MS }).not.toMatch(/stale/)
    await expect.poll(() => page.getByRole('button', { name: 'Test print on lobby' }).isEnabled(), { timeout: WAIT_MS }).toBe(true)
  })

  it('shows the jobs queued in the relay when its status says (queued)', async () => {
    const { broker } = await startVenue(cleanup)
    const page = await openDashboard(broker.httpUrl)
    await waitConnected(page)
    // The relay reports its queue in each status (`queued`): none waits.
    await expect.poll(() => printerRow(page, 'lobby').locator('td[data-label="Queued"]').textContent(), { timeout: WAIT_MS }).toBe('0')
    // Another printer's status, published as its relay would, with 3 jobs waiting.
    const relay = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await relay.publish('printers/annex/status', JSON.stringify({ printerId: 'annex', state: 'unreachable', detail: 'connect ECONNREFUSED', relayId: 'annex-relay', at: new Date().toISOString(), queued: 3 }), { retain: true })
    const row = printerRow(page, 'annex')
    await expect.poll(() => row.locator('td[data-label="Queued"]').textContent(), { timeout: WAIT_MS }).toBe('3')
    expect(await row.getAttribute('data-state')).toBe('unreachable')
    expect(await row.locator('td[data-label="Relay"]').textContent()).toBe('annex-relay')
    expect(await row.locator('td[data-label="State"]').innerText()).toContain('ECONNREFUSED')
  })
})

/** A retained status of `printerId`, read by a fresh subscriber as `ops`: its JSON, or undefined when none. */
async function retainedStatus (mqttUrl: string, printerId: string): Promise<unknown> {
  const reader = await TestClient.connect(mqttUrl, { username: 'ops', password: PASSWORDS.ops })
  try {
    await reader.subscribe(`printers/${printerId}/status`)
    try {
      return (await reader.waitFor(() => true, 1000, 'retained status')).json
    } catch {
      return undefined
    }
  } finally {
    await reader.stop()
  }
}

describe('dashboard with AUTH_FILE', () => {
  for (const target of BROKER_TARGETS) {
    it(`logs in, shows the user's printers and history, and lets an admin (only) forget a printer that is gone (${target.name})`, async () => {
      const dir = await tempDir(cleanup)
      const authFile = path.join(dir, 'auth.json')
      await writeTestUsers(authFile)
      const started = await target.start(authFile, dir, cleanup, { AUTH_FILE: authFile })
      const printer = cleanup.add(await startPrinter())
      cleanup.add(await startRelay(relayEnv(started.mqttUrl, { lobby: printer }, await tempDir(cleanup), { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
      // `bar` is gone: its relay left a retained offline status behind.
      const barRelay = await TestClient.connect(started.mqttUrl, { username: 'relay-bar', password: PASSWORDS['relay-bar'] })
      await barRelay.publish('printers/bar/status', JSON.stringify({ printerId: 'bar', state: 'offline', relayId: 'old-relay', at: new Date().toISOString() }), { retain: true })
      await barRelay.stop()
      expect(await retainedStatus(started.mqttUrl, 'bar')).toMatchObject({ state: 'offline' })

      // alice (a client of lobby) sees lobby only, its test print works, and no Forget.
      const alicePage = await openDashboard(started.httpUrl)
      await expect.poll(() => alicePage.locator('#login').isVisible(), { timeout: WAIT_MS }).toBe(true)
      await logIn(alicePage, 'alice')
      await expect.poll(() => printerRow(alicePage, 'lobby').getAttribute('data-state'), { timeout: WAIT_MS }).toBe('online')
      expect(await printerRow(alicePage, 'bar').count()).toBe(0)
      await alicePage.getByRole('button', { name: 'Test print on lobby' }).click()
      await expect.poll(() => alicePage.locator('#printer-action').textContent(), { timeout: WAIT_MS }).toMatch(/printed on lobby/)
      await expect.poll(() => alicePage.locator('#job-table tbody tr[data-status="printed"]').count(), { timeout: WAIT_MS }).toBe(1)
      expect(await alicePage.getByRole('button', { name: 'Forget lobby' }).isVisible()).toBe(false)

      // The broker refuses a client's empty retained status: the status stays.
      const aliceMqtt = await mqtt.connectAsync(started.mqttUrl, { username: 'alice', password: PASSWORDS.alice, reconnectPeriod: 0 })
      await Promise.race([aliceMqtt.publishAsync('printers/lobby/status', '', { qos: 1, retain: true }).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000))])
      await aliceMqtt.endAsync(true)
      expect(await retainedStatus(started.mqttUrl, 'lobby')).toMatchObject({ state: 'online' })

      // ops (admin) sees both, and forgets bar: gone from the page and from the broker's retained messages.
      const opsPage = await openDashboard(started.httpUrl)
      await logIn(opsPage, 'ops')
      await expect.poll(() => printerRow(opsPage, 'bar').getAttribute('data-state'), { timeout: WAIT_MS }).toBe('offline')
      // alice's test job is in the admin's history too.
      await expect.poll(() => opsPage.locator('#job-table tbody tr[data-status="printed"]').count(), { timeout: WAIT_MS }).toBe(1)
      opsPage.once('dialog', (dialog) => { void dialog.accept() })
      await opsPage.getByRole('button', { name: 'Forget bar' }).click()
      await expect.poll(() => printerRow(opsPage, 'bar').count(), { timeout: WAIT_MS }).toBe(0)
      await expect.poll(() => opsPage.locator('#printer-action').textContent(), { timeout: WAIT_MS }).toBe('Forgot bar.')
      expect(await retainedStatus(started.mqttUrl, 'bar')).toBeUndefined()
      expect(await printerRow(opsPage, 'lobby').getAttribute('data-state')).toBe('online')
    })
  }
})
