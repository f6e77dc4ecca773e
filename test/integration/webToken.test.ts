/**
 * The print page with a browser token in its address (`/#token=…`, SPEC "Browser tokens"), in real Chromium on
 * the embedded broker: it logs in with the token without asking, shows and prints on the token's printers only,
 * takes the token out of the address, never sends it to the server over HTTP (nor does the broker log it), keeps
 * it for the tab, and asks for a log-in once the token has expired. On Mosquitto the web server checks the token.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { issueToken } from '../../access/tokens.ts'
import { loadBrokerConfig } from '../../broker/config.ts'
import { PrintwireBroker } from '../../broker/mqttBroker.ts'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { launchChromium } from '../../harness/browser.ts'
import { captureLog } from '../../harness/logCapture.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { decodeSecret } from '../../runtime/secretText.ts'

const WAIT_MS = 10_000
const SECRET_TEXT = 'qgjBkYF3C3TnVhw0H5b1mOZ4xP2sN8aLdR6eW9cUyKo'
const SECRET = decodeSecret(SECRET_TEXT) as Buffer
const OPS = { name: 'ops', role: 'admin' as const, printers: ['*'] }
const cleanup = new Cleanup()
const log = captureLog('debug')
let browser: Browser | undefined
let httpUrl: string
let lobby: BocaSimulator

beforeAll(async () => {
  browser = await launchChromium()
  const dir = await tempDir(cleanup)
  await writeTestUsers(`${dir}/auth.json`)
  const config = loadBrokerConfig({ PORT: '0', MQTT_PORT: '0', LISTEN_HOST: '127.0.0.1', PERSISTENCE: 'memory', SERVER_TIME_INTERVAL_MS: '250', AUTH_FILE: `${dir}/auth.json`, TOKEN_SECRET: SECRET_TEXT })
  const broker = new PrintwireBroker({ config, logger: log.logger })
  await broker.start()
  cleanup.defer(() => broker.stop())
  httpUrl = `http://127.0.0.1:${broker.httpPort}`
  const mqttUrl = `mqtt://127.0.0.1:${broker.mqttPort}`
  lobby = cleanup.add(await startPrinter())
  const bar = cleanup.add(await startPrinter())
  const ops = cleanup.add(await TestClient.connect(mqttUrl, { username: 'ops', password: PASSWORDS.ops }))
  await ops.subscribe('printers/+/status')
  cleanup.add(await startRelay(relayEnv(mqttUrl, { lobby }, await tempDir(cleanup), { RELAY_ID: 'a', MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
  cleanup.add(await startRelay(relayEnv(mqttUrl, { bar }, await tempDir(cleanup), { RELAY_ID: 'b', MQTT_USERNAME: 'relay-bar', MQTT_PASSWORD: PASSWORDS['relay-bar'] })))
  for (const id of ['lobby', 'bar']) await ops.waitFor((m) => m.topic === `printers/${id}/status` && m.json?.state === 'online', WAIT_MS, `${id} online`)
}, 60_000)
afterAll(async () => {
  await cleanup.closeAll()
  await browser?.close()
})

/** A new tab, with everything it sends over HTTP and logs to its console recorded. */
async function openTab (): Promise<{ page: Page, sent: string[], errors: string[] }> {
  if (browser === undefined) throw new Error('the browser did not start')
  const context = await browser.newContext()
  cleanup.defer(() => context.close())
  const page = await context.newPage()
  const sent: string[] = []
  const errors: string[] = []
  page.on('request', (request) => { sent.push(`${request.url()} ${JSON.stringify(request.headers())}`) })
  page.on('console', (message) => { sent.push(`console: ${message.text()}`) })
  page.on('pageerror', (error) => errors.push(error.message))
  return { page, sent, errors }
}

describe('the print page with a token', () => {
  it('logs in with #token=… without asking, prints on its printers only, and keeps the token out of the address, the server and the logs', async () => {
    const { token } = issueToken(SECRET, OPS, { printers: ['lobby'], ttlSeconds: 600 }, Date.now())
    const { page, sent, errors } = await openTab()
    await page.goto(`${httpUrl}/#token=${token}`)
    const status = page.getByRole('status')
    await expect.poll(() => status.getAttribute('data-state'), { timeout: WAIT_MS }).toBe('connected')
    expect(await page.getByRole('region', { name: 'Log in' }).isVisible()).toBe(false)
    expect(await page.locator('#session-user').textContent()).toBe('Printing with a token')
    expect(page.url()).toBe(`${httpUrl}/`)

    // An admin's token for lobby: lobby only.
    await expect.poll(() => page.locator('#printer option[value="lobby"]').count(), { timeout: WAIT_MS }).toBe(1)
    expect(await page.locator('#printer option[value="bar"]').count()).toBe(0)
    await page.getByRole('combobox', { name: 'Printer' }).selectOption('lobby')
    const ticket = '<RC10,10>printed with a token<p>'
    await page.getByRole('textbox', { name: 'Ticket (FGL)' }).fill(ticket)
    await page.getByRole('button', { name: 'Print' }).click()
    await expect.poll(() => page.locator('#job-log tbody tr').first().getAttribute('data-status'), { timeout: WAIT_MS }).toBe('printed')
    expect(lobby.tickets.some((t) => t.bytes.toString('utf8') === ticket)).toBe(true)

    // Kept for the tab: a reload (the token no longer in the address) logs in again without asking.
    await page.reload()
    await expect.poll(() => status.getAttribute('data-state'), { timeout: WAIT_MS }).toBe('connected')
    expect(await page.locator('#session-user').textContent()).toBe('Printing with a token')
    expect(await page.evaluate(() => localStorage.length)).toBe(0)

    const signature = token.split('.')[2] as string
    expect(sent.length).toBeGreaterThan(3)
    expect(sent.filter((line) => line.includes(signature))).toEqual([])
    expect(log.text()).not.toContain(signature)
    expect(errors).toEqual([])
  })

  it('asks for a log-in, saying why, once the token has expired, and for a token that is not valid', async () => {
    // Long enough for a busy machine to load the page and connect before it expires (2 s was not, under load).
    const { token, expiresAt } = issueToken(SECRET, OPS, { printers: ['lobby'], ttlSeconds: 5 }, Date.now())
    const { page, errors } = await openTab()
    await page.goto(`${httpUrl}/#token=${token}`)
    await expect.poll(() => page.getByRole('status').getAttribute('data-state'), { timeout: WAIT_MS }).toBe('connected')
    const loginForm = page.getByRole('region', { name: 'Log in' })
    await expect.poll(() => loginForm.isVisible(), { timeout: WAIT_MS }).toBe(true)
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt))
    expect(await page.locator('#login-error').textContent()).toMatch(/token: it has expired or is not valid/)
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)

    const forged = `${token.slice(0, -3)}AAA`
    await page.goto(`${httpUrl}/#token=${forged}`)
    await expect.poll(() => loginForm.isVisible(), { timeout: WAIT_MS }).toBe(true)
    expect(await page.locator('#login-error').textContent()).toMatch(/token/)
    expect(errors).toEqual([])
  })
})

describe('the print page with a token on Mosquitto', () => {
  it('logs in with #token=… through the web server (which checks tokens for Mosquitto) and prints on its printers only', async () => {
    const mosquitto = BROKER_TARGETS.find((target) => target.name === 'Mosquitto')
    if (mosquitto === undefined) throw new Error('no Mosquitto target')
    const dir = await tempDir(cleanup)
    await writeTestUsers(`${dir}/auth.json`)
    const urls = await mosquitto.start(`${dir}/auth.json`, dir, cleanup, { AUTH_FILE: `${dir}/auth.json`, TOKEN_SECRET: SECRET_TEXT })
    const printer = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(urls.mqttUrl, { lobby: printer }, await tempDir(cleanup), { RELAY_ID: 'm', MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
    const { token } = issueToken(SECRET, OPS, { printers: ['lobby'], ttlSeconds: 600 }, Date.now())
    const { page, errors } = await openTab()
    await page.goto(`${urls.httpUrl}/#token=${token}`)
    await expect.poll(() => page.getByRole('status').getAttribute('data-state'), { timeout: WAIT_MS }).toBe('connected')
    expect(await page.locator('#session-user').textContent()).toBe('Printing with a token')
    await expect.poll(() => page.locator('#printer option[value="lobby"]').count(), { timeout: WAIT_MS }).toBe(1)
    await page.getByRole('combobox', { name: 'Printer' }).selectOption('lobby')
    const ticket = '<RC10,10>printed with a token on Mosquitto<p>'
    await page.getByRole('textbox', { name: 'Ticket (FGL)' }).fill(ticket)
    await page.getByRole('button', { name: 'Print' }).click()
    await expect.poll(() => page.locator('#job-log tbody tr').first().getAttribute('data-status'), { timeout: WAIT_MS }).toBe('printed')
    expect(printer.tickets.map((t) => t.bytes.toString('utf8'))).toEqual([ticket])

    // A token of another secret is refused by the web server, and the page asks for a log-in, saying why.
    const { page: other } = await openTab()
    const { token: foreign } = issueToken(decodeSecret('Zq1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKkLlMmNn') as Buffer, OPS, { printers: ['lobby'], ttlSeconds: 600 }, Date.now())
    await other.goto(`${urls.httpUrl}/#token=${foreign}`)
    await expect.poll(() => other.getByRole('region', { name: 'Log in' }).isVisible(), { timeout: WAIT_MS }).toBe(true)
    expect(await other.locator('#login-error').textContent()).toMatch(/token: it has expired or is not valid/)
    expect(errors).toEqual([])
  })
})
