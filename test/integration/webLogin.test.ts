/**
 * The page's log-in in real Chromium, on both brokers (embedded Aedes with AUTH_FILE; Mosquitto behind
 * `npm run web`): the page asks for a user name and password, says when they are wrong, keeps them for
 * the tab only, lists only the printers that user may use, prints, and logs out.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { launchChromium } from '../../harness/browser.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { serveLobbyAndBar } from '../../harness/venue.ts'

const WAIT_MS = 10_000
let browser: Browser | undefined

beforeAll(async () => { browser = await launchChromium() })
afterAll(async () => { await browser?.close() })

async function logIn (page: Page, user: string, password: string): Promise<void> {
  await page.getByRole('textbox', { name: 'User name' }).fill(user)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
}

describe.each(BROKER_TARGETS)('page log-in on $name', (target) => {
  const cleanup = new Cleanup()
  let httpUrl: string
  let lobby: BocaSimulator

  beforeAll(async () => {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    const urls = await target.start(authFile, dir, cleanup, { SERVER_TIME_INTERVAL_MS: '250' })
    httpUrl = urls.httpUrl
    lobby = (await serveLobbyAndBar(cleanup, urls.mqttUrl)).lobby
  }, 60_000)
  afterAll(() => cleanup.closeAll())

  it('asks for a log-in, refuses a wrong password, then shows only the user\'s printers and prints on them', async () => {
    if (browser === undefined) throw new Error('the browser did not start')
    const context = await browser.newContext()
    cleanup.defer(() => context.close())
    const page = await context.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(httpUrl)

    const loginForm = page.getByRole('region', { name: 'Log in' })
    await expect.poll(() => loginForm.isVisible(), { timeout: WAIT_MS }).toBe(true)
    expect(await page.getByRole('button', { name: 'Print' }).isDisabled()).toBe(true)

    await logIn(page, 'alice', 'not-her-password')
    const error = page.locator('#login-error')
    await expect.poll(() => error.textContent(), { timeout: WAIT_MS }).toMatch(/refused/)
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)

    await logIn(page, 'alice', PASSWORDS.alice)
    const status = page.getByRole('status')
    await expect.poll(() => status.getAttribute('data-state'), { timeout: WAIT_MS }).toBe('connected')
    expect(await loginForm.isVisible()).toBe(false)
    expect(await page.locator('#session-user').textContent()).toBe('Logged in as alice')
    // Only lobby: bar's retained status is never delivered to alice.
    const lobbyOption = page.locator('#printer option[value="lobby"]')
    await expect.poll(() => lobbyOption.count(), { timeout: WAIT_MS }).toBe(1)
    await expect.poll(() => page.locator('#printer').innerText(), { timeout: WAIT_MS }).toMatch(/lobby/)
    expect(await page.locator('#printer option[value="bar"]').count()).toBe(0)
    await expect.poll(() => page.getByLabel('Server time').getAttribute('datetime'), { timeout: WAIT_MS }).toMatch(/^\d{4}-/)

    await page.getByRole('combobox', { name: 'Printer' }).selectOption('lobby')
    const ticket = `<RC10,10>page log-in ${target.name}<p>`
    await page.getByRole('textbox', { name: 'Ticket (FGL)' }).fill(ticket)
    await page.getByRole('button', { name: 'Print' }).click()
    const row = page.locator('#job-log tbody tr').first()
    await expect.poll(() => row.getAttribute('data-status'), { timeout: WAIT_MS }).toBe('printed')
    expect(lobby.tickets.some((t) => t.bytes.toString('utf8') === ticket)).toBe(true)

    // Kept for the tab: a reload logs in again without asking; the password is not in localStorage.
    await page.reload()
    await expect.poll(() => status.getAttribute('data-state'), { timeout: WAIT_MS }).toBe('connected')
    expect(await loginForm.isVisible()).toBe(false)
    expect(await page.evaluate(() => localStorage.length)).toBe(0)

    // A new tab (a new session) must log in itself.
    const other = await context.newPage()
    await other.goto(httpUrl)
    await expect.poll(() => other.getByRole('region', { name: 'Log in' }).isVisible(), { timeout: WAIT_MS }).toBe(true)
    await other.close()

    await page.getByRole('button', { name: 'Log out' }).click()
    await expect.poll(() => page.getByRole('region', { name: 'Log in' }).isVisible(), { timeout: WAIT_MS }).toBe(true)
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    expect(pageErrors).toEqual([])
  })
})
