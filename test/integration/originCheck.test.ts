/**
 * Cross-site WebSockets (issue #10, finding 5): a page of another origin, open in a browser on the venue PC,
 * must not reach `/mqtt`, on the embedded broker and through the web server in front of Mosquitto. The page's
 * own origin and ALLOWED_ORIGINS connect; clients that send no Origin (not browsers) are unaffected.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { loadBrokerConfig } from '../../broker/config.ts'
import { PrintwireBroker } from '../../broker/mqttBroker.ts'
import { checkOrigin } from '../../runtime/originCheck.ts'
import { loadWebServerConfig } from '../../web/server/config.ts'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { launchChromium } from '../../harness/browser.ts'
import { captureLog } from '../../harness/logCapture.ts'
import { Cleanup, startBroker, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/**
 * Opens a raw WebSocket to `url` sending `origin` (none if undefined), and `host` as Host if given: 'open', or
 * the HTTP status and body of the refusal.
 */
function upgrade (url: string, origin: string | undefined, host?: string): Promise<'open' | { status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'mqtt', { ...(origin === undefined ? {} : { origin }), ...(host === undefined ? {} : { headers: { host } }) })
    ws.once('open', () => { ws.terminate(); resolve('open') })
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => { body += chunk.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    ws.once('error', reject)
  })
}

/** The origin of the page that `wsUrl`'s server serves itself (same scheme family, same host and port). */
function ownOriginOf (wsUrl: string): string {
  return `http://${new URL(wsUrl).host}`
}

/** Logs in as alice over WebSockets, as a browser of `origin` would: the connected client, or 'refused'. */
async function loginAs (wsUrl: string, origin: string | undefined): Promise<MqttClient | 'refused'> {
  const client = mqtt.connect(wsUrl, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    username: 'alice',
    password: PASSWORDS.alice,
    ...(origin === undefined ? {} : { wsOptions: { origin } })
  })
  client.on('error', () => {})
  cleanup.defer(() => { client.end(true) })
  const connected = await new Promise<boolean>((resolve) => {
    client.once('connect', () => resolve(true))
    client.once('close', () => resolve(false))
  })
  return connected ? client : 'refused'
}

describe('the origin rule (runtime/originCheck.ts)', () => {
  const allowed = ['https://tickets.example.com']
  it.each([
    ['no Origin: not a browser', { origin: undefined, host: 'localhost:5050', secure: false }, true],
    ['the page\'s own origin', { origin: 'http://localhost:5050', host: 'localhost:5050', secure: false }, true],
    ['its own origin over TLS', { origin: 'https://broker.example', host: 'broker.example', secure: true }, true],
    ['own host, other scheme', { origin: 'https://localhost:5050', host: 'localhost:5050', secure: false }, false],
    ['own host name, other port', { origin: 'http://localhost:8080', host: 'localhost:5050', secure: false }, false],
    ['another site', { origin: 'http://evil.example', host: 'localhost:5050', secure: false }, false],
    ['a sandboxed frame or a file (null)', { origin: 'null', host: 'localhost:5050', secure: false }, false],
    ['an origin in ALLOWED_ORIGINS', { origin: 'https://tickets.example.com', host: 'localhost:5050', secure: false }, true],
    ['an Origin with no Host', { origin: 'http://localhost:5050', host: undefined, secure: false }, false],
    ['a Host that is not a host', { origin: 'http://localhost:5050', host: 'x@localhost:5050', secure: false }, false]
  ])('%s', (_what, request, ok) => {
    expect(checkOrigin(request, { allowed, loopbackOnly: false }).ok).toBe(ok)
  })

  it.each([
    ['localhost', 'localhost:5050', true],
    ['127.0.0.1', '127.0.0.1:5050', true],
    ['[::1]', '[::1]:5050', true],
    ['a name resolved to 127.0.0.1 (DNS rebinding)', 'rebound.example:5050', false]
  ])('a server on loopback only counts its own origin under a loopback name: %s', (_what, host, ok) => {
    expect(checkOrigin({ origin: `http://${host}`, host, secure: false }, { allowed: [], loopbackOnly: true }).ok).toBe(ok)
  })

  it('takes ALLOWED_ORIGINS as comma-separated origins, normalized, in the broker and the web server', () => {
    const env = { ALLOWED_ORIGINS: ' HTTPS://Tickets.Example.com:443 , http://localhost:3000/' }
    expect(loadBrokerConfig(env).ALLOWED_ORIGINS).toEqual(['https://tickets.example.com', 'http://localhost:3000'])
    expect(loadWebServerConfig(env).ALLOWED_ORIGINS).toEqual(['https://tickets.example.com', 'http://localhost:3000'])
    expect(loadBrokerConfig({}).ALLOWED_ORIGINS).toEqual([])
  })

  it('names every entry of ALLOWED_ORIGINS that is not an origin', () => {
    const env = { ALLOWED_ORIGINS: 'https://ok.example,ftp://files.example,https://a.example/path,*' }
    for (const load of [loadBrokerConfig, loadWebServerConfig]) {
      expect(() => load(env)).toThrow(/ALLOWED_ORIGINS: "ftp:\/\/files.example" is not an origin[\s\S]*ALLOWED_ORIGINS: "https:\/\/a.example\/path" is not an origin[\s\S]*ALLOWED_ORIGINS: "\*" is not an origin/)
    }
  })
})

describe.each(BROKER_TARGETS)('WebSocket origins on $name', (target) => {
  async function start (env: Record<string, string> = {}): Promise<string> {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    return (await target.start(authFile, dir, cleanup, env)).wsUrl
  }

  it('refuses a page of another origin with 403 before the upgrade; its own origin and clients without one connect', async () => {
    const wsUrl = await start()
    expect(await upgrade(wsUrl, 'http://evil.example')).toEqual({ status: 403, body: 'origin not allowed' })
    expect(await upgrade(wsUrl, 'null')).toEqual({ status: 403, body: 'origin not allowed' })
    expect(await loginAs(wsUrl, 'http://evil.example')).toBe('refused')

    const own = await loginAs(wsUrl, ownOriginOf(wsUrl))
    expect(own).toBeInstanceOf(mqtt.MqttClient)
    const noOrigin = await loginAs(wsUrl, undefined)
    expect(noOrigin).toBeInstanceOf(mqtt.MqttClient)
    // Really through to the broker: a subscription is granted.
    expect(await (noOrigin as MqttClient).subscribeAsync('printers/lobby/responses', { qos: 1 })).toEqual([expect.objectContaining({ qos: 1 })])
  })

  it('lets the origins of ALLOWED_ORIGINS connect, and no others', async () => {
    const wsUrl = await start({ ALLOWED_ORIGINS: 'https://tickets.example.com,http://127.0.0.1:1' })
    expect(await loginAs(wsUrl, 'https://tickets.example.com')).toBeInstanceOf(mqtt.MqttClient)
    expect(await loginAs(wsUrl, 'http://127.0.0.1:1')).toBeInstanceOf(mqtt.MqttClient)
    expect(await upgrade(wsUrl, 'http://tickets.example.com')).toEqual({ status: 403, body: 'origin not allowed' })
    expect(await upgrade(wsUrl, 'https://evil.example')).toEqual({ status: 403, body: 'origin not allowed' })
  })
})

describe('the anonymous broker (loopback only)', () => {
  it('refuses a page whose site name was made to resolve to 127.0.0.1 (DNS rebinding), and takes its own under localhost', async () => {
    const broker = cleanup.add(await startBroker())
    const port = new URL(broker.wsUrl).port
    expect(await upgrade(broker.wsUrl, `http://rebound.example:${port}`, `rebound.example:${port}`)).toEqual({ status: 403, body: 'origin not allowed' })
    expect(await upgrade(broker.wsUrl, `http://localhost:${port}`, `localhost:${port}`)).toBe('open')
  })
})

describe('a refused origin in the log', () => {
  it('is a warning with the origin clipped', async () => {
    const log = captureLog()
    const broker = cleanup.add(new PrintwireBroker({ config: loadBrokerConfig({ PORT: '0', MQTT_PORT: '0', PERSISTENCE: 'memory' }), logger: log.logger }))
    await broker.start()
    const origin = `http://${'a'.repeat(5_000)}.example`
    expect(await upgrade(`ws://127.0.0.1:${broker.httpPort}/mqtt`, origin)).toMatchObject({ status: 403 })
    const refusal = log.entries().find((entry) => String(entry.msg).startsWith('websocket refused'))
    expect(refusal).toMatchObject({ level: 40, origin: expect.stringMatching(/^http:\/\/a+…\(\d+ more chars\)$/) })
    expect(String(refusal?.origin).length).toBeLessThan(100)
    expect(log.text()).not.toContain('a'.repeat(200))
  })
})

describe('in Chromium', () => {
  let browser: Browser | undefined
  beforeAll(async () => { browser = await launchChromium() })
  afterAll(async () => { await browser?.close() })

  /** Opens a WebSocket to `wsUrl` from the page now loaded: 'open' or 'refused'. */
  const tryFromPage = (page: Page, wsUrl: string): Promise<string> => page.evaluate(`new Promise((resolve) => {
    const ws = new WebSocket(${JSON.stringify(wsUrl)}, 'mqtt')
    ws.onopen = () => { ws.close(); resolve('open') }
    ws.onerror = () => resolve('refused')
  })`)

  it('a page served from another loopback origin cannot open the anonymous broker\'s /mqtt; the broker\'s own page can', async () => {
    const broker = cleanup.add(await startBroker())
    const foreign: Server = createServer((_req, res) => { res.setHeader('Content-Type', 'text/html'); res.end('<!doctype html><title>elsewhere</title>') })
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve))
    cleanup.defer(() => new Promise<void>((resolve) => foreign.close(() => resolve())))
    if (browser === undefined) throw new Error('the browser did not start')
    const context = await browser.newContext()
    cleanup.defer(() => context.close())
    const page = await context.newPage()

    await page.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`)
    expect(await tryFromPage(page, broker.wsUrl)).toBe('refused')
    await page.goto(broker.httpUrl)
    expect(await tryFromPage(page, broker.wsUrl)).toBe('open')
  })
})
