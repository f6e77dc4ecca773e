/**
 * The client library as browsers get it: `/printwire-client.js` from the page server, imported by a page in real
 * headless Chromium, printing text and bytes over MQTT over WebSockets through a real broker, relay and printer.
 */
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../harness/browser.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
let browser: Browser | undefined

beforeAll(async () => { browser = await launchChromium() })
afterEach(() => cleanup.closeAll())
afterAll(async () => { await browser?.close() })

const GRAPHIC = Array.from({ length: 256 }, (_, i) => i)

describe('/printwire-client.js in a browser', () => {
  it('is imported by a page, lists the printers, and prints text and bytes, each resolving with its result', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/demo/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { demo: sim }, await tempDir(cleanup))))
    await watcher.waitFor((m) => m.json?.state === 'online', 10_000, 'demo online')

    if (browser === undefined) throw new Error('the browser did not start')
    const context = await browser.newContext()
    cleanup.defer(() => context.close())
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    // Any page of the server's origin: the test's own script imports the library, as an app's page would.
    await page.goto(`${broker.httpUrl}/healthz`)
    // A module script of the test page, as an app's page would write it (a string: vitest must not rewrite its import).
    const script = `
      import { connect, PrintwireError } from '/printwire-client.js'
      window.outcome = (async () => {
        const pw = await connect(${JSON.stringify(broker.wsUrl)})
        try {
          // Retained statuses arrive just after the connection: the list fills, and says so.
          const printers = pw.printers().length > 0 ? pw.printers() : await new Promise((resolve) => pw.on('printers', resolve))
          const text = await pw.print('demo', '<RC10,10><F3>Browser \u2713<p>', { id: 'browser-1' })
          const graphic = new Uint8Array(256).map((_, i) => i)
          const bytes = new Uint8Array([...new TextEncoder().encode('<RC10,10><G256>'), ...graphic, ...new TextEncoder().encode('<p>')])
          const binary = await pw.print('demo', bytes)
          const refused = await pw.print('demo', 'x', { copies: 0 }).catch((error) => error)
          return { printers, text, binary, refused: { isPrintwireError: refused instanceof PrintwireError, code: refused.code } }
        } finally {
          await pw.close()
        }
      })()`
    await page.addScriptTag({ type: 'module', content: script })
    await page.waitForFunction('window.outcome !== undefined')
    const outcome = await page.evaluate('window.outcome') as { printers: unknown[], text: unknown, binary: unknown, refused: unknown }
    expect(errors).toEqual([])
    expect(outcome.printers).toEqual([expect.objectContaining({ printerId: 'demo', state: 'online' })])
    expect(outcome.text).toMatchObject({ jobId: 'browser-1', printerId: 'demo', status: 'printed' })
    expect(outcome.binary).toMatchObject({ printerId: 'demo', status: 'printed', bytes: 15 + 256 + 3 })
    expect(outcome.refused).toEqual({ isPrintwireError: true, code: 'INVALID_JOB' })
    expect(sim.tickets.map((t) => t.bytes)).toEqual([
      Buffer.from('<RC10,10><F3>Browser ✓<p>', 'utf8'),
      Buffer.concat([Buffer.from('<RC10,10><G256>'), Buffer.from(GRAPHIC), Buffer.from('<p>')])
    ])
  })
})
