/**
 * Pictures of what the simulated printer printed: `--dump-dir` writes `<n>.png` beside `<n>.bin`/`<n>.txt` (a real
 * simulator over TCP; a picture that cannot be written is logged and the ticket prints all the same), and `npm start`
 * (start.ts, a real process) serves its printer's last tickets to the page, which shows the one just printed
 * (real Chromium). `npm run broker` serves no such route.
 */
import { mkdir, readFile, stat } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { decode } from 'fast-png'
import jsQRModule from 'jsqr'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { STATUS } from '../../boca/status.ts'
import { renderJob } from '../../fgl/index.ts'
import { svgToPng } from '../../fgl/png.ts'
import { launchChromium } from '../../harness/browser.ts'
import { captureLog } from '../../harness/logCapture.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { PartProcess, ROOT } from '../../harness/processes.ts'
import { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'
import { loadWebServerConfig } from '../../web/server/config.ts'
import { WebServer } from '../../web/server/webServer.ts'
import type { Browser } from 'playwright-core'

/** jsqr is CommonJS: under NodeNext its typings see the module object, at run time the default import may be the function. */
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as typeof jsQRModule.default
const WAIT_MS = 20_000
const cleanup = new Cleanup()
afterEach(async () => { await cleanup.closeAll() })

const example = (name: string): Promise<Buffer> => readFile(path.join(ROOT, 'examples', 'tickets', `${name}.fgl`))
/** A ticket as the printer takes it: the example up to and with its `<p>`. */
async function ticketOf (name: string): Promise<Buffer> {
  const file = await example(name)
  return file.subarray(0, file.lastIndexOf('<p>') + 3)
}

/** Writes `bytes` to the printer and reads `acks` status bytes back. */
async function printOverTcp (port: number, bytes: Buffer, acks: number): Promise<number[]> {
  const socket = net.connect(port, '127.0.0.1')
  cleanup.defer(() => { socket.destroy() })
  const received: number[] = []
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.on('data', (chunk: Buffer) => {
      received.push(...chunk)
      if (received.length >= acks) resolve()
    })
    socket.write(bytes)
  })
  socket.end()
  return received
}

function pngSize (png: Uint8Array): { width: number, height: number } {
  const view = Buffer.from(png)
  expect(view.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) }
}

describe('the simulator\'s dump directory', () => {
  it('writes <n>.png beside <n>.bin and <n>.txt: the ticket drawn, its QR code scanning to its data', async () => {
    const dumpDir = await tempDir(cleanup)
    const simulator = new BocaSimulator({ config: { host: '127.0.0.1', port: 0, dumpDir }, logger: captureLog().logger })
    await simulator.start()
    cleanup.add(simulator)
    const concert = await ticketOf('concert-qr')
    const parking = await ticketOf('parking-code128')
    expect(await printOverTcp(simulator.port, Buffer.concat([concert, parking]), 2)).toEqual([STATUS.ACK, STATUS.ACK])
    await simulator.stop() // waits for the dump to be written

    expect(await readFile(path.join(dumpDir, '1.bin'))).toEqual(concert)
    expect(await readFile(path.join(dumpDir, '2.bin'))).toEqual(parking)
    const first = await readFile(path.join(dumpDir, '1.png'))
    expect(pngSize(first)).toEqual({ width: 1050, height: 384 })
    const image = decode(first)
    const rgba = new Uint8ClampedArray(image.width * image.height * 4)
    for (let i = 0; i < image.width * image.height; i++) {
      for (let c = 0; c < 4; c++) rgba[i * 4 + c] = c < image.channels ? image.data[i * image.channels + c] as number : 255
    }
    // The QR code sits at columns 790…, rows 25…: scan that corner of the picture.
    const corner = { x: 770, y: 0, w: 280, h: 250 }
    const cropped = new Uint8ClampedArray(corner.w * corner.h * 4)
    for (let y = 0; y < corner.h; y++) cropped.set(rgba.subarray(((corner.y + y) * image.width + corner.x) * 4, ((corner.y + y) * image.width + corner.x + corner.w) * 4), y * corner.w * 4)
    expect(jsQR(cropped, corner.w, corner.h)?.data).toBe('https://tickets.example/t/8F3K2Q')
    // The picture is the renderer's, byte for byte.
    expect(Buffer.from(await readFile(path.join(dumpDir, '2.png')))).toEqual(Buffer.from(svgToPng(renderJob(parking).svgs[0] as string)))
  })

  it('still prints, and says so in its log, when a ticket\'s picture cannot be written', async () => {
    const dumpDir = await tempDir(cleanup)
    await mkdir(path.join(dumpDir, '1.png')) // a directory where the picture should go: writing it fails
    const log = captureLog()
    const simulator = new BocaSimulator({ config: { host: '127.0.0.1', port: 0, dumpDir }, logger: log.logger })
    await simulator.start()
    cleanup.add(simulator)
    const ticket = Buffer.from('<RC10,10><F3>Hello<p>')
    expect(await printOverTcp(simulator.port, Buffer.concat([ticket, ticket]), 2)).toEqual([STATUS.ACK, STATUS.ACK])
    await simulator.stop()

    expect(simulator.printed).toBe(2)
    expect(await readFile(path.join(dumpDir, '1.bin'))).toEqual(ticket)
    expect(await readFile(path.join(dumpDir, '1.txt'), 'utf8')).toBe('Hello[cut]\n')
    expect((await stat(path.join(dumpDir, '1.png'))).isDirectory()).toBe(true)
    expect(pngSize(await readFile(path.join(dumpDir, '2.png')))).toEqual({ width: 1050, height: 384 })
    const warning = log.entries().find((entry) => entry.msg === 'could not draw the ticket\'s picture: no PNG for it')
    expect(warning).toMatchObject({ level: 40, ticket: 1, dir: dumpDir })
    expect(log.entries().filter((entry) => entry.msg === 'ticket printed')).toHaveLength(2)
  })
})

describe('npm start: the page shows what the simulated printer printed', () => {
  let browser: Browser | undefined
  beforeAll(async () => { browser = await launchChromium() })
  afterAll(async () => { await browser?.close() })

  /** start.ts as a real process on free ports; its page's URL. */
  async function npmStart (extra: Record<string, string> = {}): Promise<string> {
    const port = await freePort()
    const env = { PORT: String(port), MQTT_PORT: String(await freePort()), PERSISTENCE: 'memory', DATA_DIR: await tempDir(cleanup), ...extra }
    const started = cleanup.add(new PartProcess('start.ts', env))
    await started.waitForLog(`Printwire is running. Open http://localhost:${port}/ and print on "demo".`, WAIT_MS)
    return `http://127.0.0.1:${port}`
  }

  it('tells the page where the tickets are, serves the last one as JSON, PNG and SVG, and nothing else', async () => {
    const url = await npmStart()
    const config = await (await fetch(`${url}/config.json`)).json() as Record<string, unknown>
    expect(config.simulator).toEqual({ printerId: 'demo', ticketsPath: '/simulator/tickets' })
    const none = await fetch(`${url}/simulator/tickets/latest`)
    expect(none.status).toBe(404)
    expect(await none.json()).toMatchObject({ code: 'NOT_FOUND' })

    const concert = await example('concert-qr')
    const printed = await fetch(`${url}/api/printers/demo/jobs?wait=15`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(concert) })
    expect(await printed.json()).toMatchObject({ status: 'printed' })
    const latest = await fetch(`${url}/simulator/tickets/latest`)
    expect(latest.headers.get('cache-control')).toBe('no-store')
    const body = await latest.json() as { n: number, printerId: string, at: string }
    expect(body).toMatchObject({ n: 1, printerId: 'demo' })
    expect(Date.parse(body.at)).not.toBeNaN()

    const png = await fetch(`${url}/simulator/tickets/1.png`)
    expect(png.headers.get('content-type')).toBe('image/png')
    const ticket = concert.subarray(0, concert.lastIndexOf('<p>') + 3)
    expect(Buffer.from(await png.arrayBuffer())).toEqual(Buffer.from(svgToPng(renderJob(ticket).svgs[0] as string)))
    const svg = await fetch(`${url}/simulator/tickets/1.svg`)
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/)
    expect(svg.headers.get('content-security-policy')).toMatch(/default-src 'none'/)
    expect(await svg.text()).toContain('THE NIGHT OWLS')

    // Only numbers of kept tickets: no other name, no path out of the route.
    for (const other of ['2.png', '0.png', '01.png', '1.PNG', '1.png.bak', '1.bin', '1.txt', '-1.png', '..%2F..%2Fpackage.json', '%2E%2E%2Fstart.ts', '1.png%00.txt', 'latest.png']) {
      const answer = await fetch(`${url}/simulator/tickets/${other}`)
      expect(answer.status, other).toBe(404)
    }
  })

  it('does not serve them when the broker is open to the network (ALLOW_ANONYMOUS): anyone could see them', async () => {
    // Opened on purpose, but here on loopback still (tests talk to loopback only).
    const url = await npmStart({ ALLOW_ANONYMOUS: 'true', LISTEN_HOST: '127.0.0.1' })
    expect(await (await fetch(`${url}/config.json`)).json()).not.toHaveProperty('simulator')
    const printed = await fetch(`${url}/api/printers/demo/jobs?wait=15`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '<RC10,10><F3>Hello<p>' })
    expect(await printed.json()).toMatchObject({ status: 'printed' })
    for (const route of ['/simulator/tickets/latest', '/simulator/tickets/1.png']) expect((await fetch(`${url}${route}`)).status, route).toBe(404)
  })

  it('shows the ticket after the page prints it on the simulated printer', async () => {
    const url = await npmStart()
    if (browser === undefined) throw new Error('the browser did not start')
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    cleanup.defer(() => context.close())
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(url)
    const printedSection = page.getByRole('region', { name: 'What the printer printed' })
    expect(await printedSection.count()).toBe(0) // hidden until something printed
    const option = page.locator('#printer option[value="demo"]')
    await expect.poll(() => option.count(), { timeout: WAIT_MS }).toBe(1)
    await page.getByRole('combobox', { name: 'Printer' }).selectOption('demo')
    await page.getByRole('combobox', { name: 'Start from a template' }).selectOption({ label: 'Parking ticket with Code 128' })
    await expect.poll(() => page.getByRole('textbox', { name: 'Ticket (FGL)' }).inputValue(), { timeout: WAIT_MS }).toContain('CITY PARKING')
    await page.getByRole('button', { name: 'Print', exact: true }).click()

    const image = page.getByRole('img', { name: 'Ticket 1 as the simulated printer "demo" printed it' })
    await expect.poll(() => image.count(), { timeout: WAIT_MS }).toBe(1)
    await expect.poll(() => image.evaluate((img) => (img as HTMLImageElement).complete ? (img as HTMLImageElement).naturalWidth : 0), { timeout: WAIT_MS }).toBe(1050)
    expect(await printedSection.isVisible()).toBe(true)
    expect(errors).toEqual([])
  })
})

describe('npm run web', () => {
  it('serves no simulator tickets either', async () => {
    const config = loadWebServerConfig({ PORT: '0', LISTEN_HOST: '127.0.0.1', DATA_DIR: await tempDir(cleanup), BROKER_WS_URL: `ws://127.0.0.1:${await freePort()}`, MQTT_URL: `mqtt://127.0.0.1:${await freePort()}` })
    const web = cleanup.add(new WebServer({ config, logger: captureLog().logger }))
    await web.start()
    const url = `http://127.0.0.1:${web.port}`
    expect(await (await fetch(`${url}/config.json`)).json()).not.toHaveProperty('simulator')
    expect((await fetch(`${url}/simulator/tickets/latest`)).status).toBe(404)
    expect((await fetch(`${url}/preview.js`)).status).toBe(200)
  })
})

describe('npm run broker', () => {
  it('serves no simulator tickets and does not name them in /config.json', async () => {
    const port = await freePort()
    const broker = cleanup.add(new PartProcess('broker/main.ts', { PORT: String(port), MQTT_PORT: String(await freePort()), PERSISTENCE: 'memory' }))
    await broker.waitForLog('broker listening', WAIT_MS)
    const config = await (await fetch(`http://127.0.0.1:${port}/config.json`)).json() as Record<string, unknown>
    expect(config).not.toHaveProperty('simulator')
    for (const route of ['/simulator/tickets/latest', '/simulator/tickets/1.png', '/simulator/tickets/1.svg']) {
      expect((await fetch(`http://127.0.0.1:${port}${route}`)).status, route).toBe(404)
    }
    // The page and its preview are served all the same.
    expect((await fetch(`http://127.0.0.1:${port}/preview.js`)).status).toBe(200)
  })
})
