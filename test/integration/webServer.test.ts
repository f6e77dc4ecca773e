/**
 * `npm run web` (web/server/): the page and `/mqtt` in front of another broker's WebSocket listener, and
 * `server/time` published as a client. Here the broker behind it is the embedded one (anonymous); the
 * access contract runs it in front of Mosquitto.
 */
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { maxPayloadBytes } from '../../protocol/index.ts'
import { silentLogger, type Logger } from '../../runtime/logger.ts'
import { loadWebServerConfig } from '../../web/server/config.ts'
import { WebServer } from '../../web/server/webServer.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { captureLog } from '../../harness/logCapture.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, startBroker, tempDir } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { PartProcess } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function startWebServer (env: Record<string, string>, deps: { logger?: Logger, pageCacheDir?: string } = {}): Promise<WebServer> {
  const config = loadWebServerConfig({ PORT: '0', LISTEN_HOST: '127.0.0.1', SERVER_TIME_INTERVAL_MS: '100', DATA_DIR: await tempDir(cleanup), ...env })
  const web = cleanup.add(new WebServer({ config, logger: deps.logger ?? silentLogger(), ...(deps.pageCacheDir === undefined ? {} : { pageCacheDir: deps.pageCacheDir }) }))
  await web.start()
  return web
}

/** GET `url`: its status, its JSON body as text, and its headers. */
async function getConfig (url: string): Promise<{ status: number, text: string, type: string | null, cache: string | null }> {
  const response = await fetch(`${url}/config.json`)
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type'), cache: response.headers.get('cache-control') }
}

/**
 * A module hook for `node --import`: appends the URL of every module the process resolves to the file named by
 * PRINTWIRE_LOADED_MODULES (hooks run on their own thread, so it writes synchronously, line by line).
 */
const MODULE_RECORDER_HOOK = [
  "import { appendFileSync } from 'node:fs'",
  'export async function resolve (specifier, context, next) {',
  '  const resolved = await next(specifier, context)',
  "  appendFileSync(process.env.PRINTWIRE_LOADED_MODULES, resolved.url + '\\n')",
  '  return resolved',
  '}'
].join('\n')
const RECORD_LOADED_MODULES = 'data:text/javascript,' + encodeURIComponent(
  `import { register } from 'node:module'\nregister(${JSON.stringify('data:text/javascript,' + encodeURIComponent(MODULE_RECORDER_HOOK))})\n`)

/** What both page servers must serve for TOPIC_PREFIX=venue and MAX_JOB_BYTES=4096. */
const VENUE_CONFIG = { topicPrefix: 'venue', maxJobBytes: 4096, maxPayloadBytes: maxPayloadBytes(4096), mqttPath: '/mqtt' }

describe('web server for an external broker', () => {
  it('serves the page, passes /mqtt through to the broker both ways, and publishes server/time', async () => {
    // The broker's own clock ticks once at start, then hourly: any later server/time is the web server's.
    const broker = cleanup.add(await startBroker({ SERVER_TIME_INTERVAL_MS: '3600000' }))
    const web = await startWebServer({ BROKER_WS_URL: broker.wsUrl, MQTT_URL: broker.mqttUrl })
    const page = await fetch(`http://127.0.0.1:${web.port}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<title>Printwire</title>')

    // A relay's session (its client id, persistent), so that the broker delivers the job rather than answer NO_RELAY.
    const viaProxy = cleanup.add(await TestClient.connect(`ws://127.0.0.1:${web.port}/mqtt`, { clientId: 'printwire-relay:proxied:lobby', clean: false }))
    const direct = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await viaProxy.subscribe('printers/lobby/jobs', 'server/time')
    await direct.subscribe('printers/lobby/responses')
    const big = Buffer.alloc(512 * 1024, 0xab)
    await direct.publish('printers/lobby/jobs', big)
    expect((await viaProxy.waitFor((m) => m.topic === 'printers/lobby/jobs')).payload.equals(big)).toBe(true)
    await viaProxy.publish('printers/lobby/responses', '{"jobId":"x"}')
    expect((await direct.waitFor((m) => m.topic === 'printers/lobby/responses')).text).toBe('{"jobId":"x"}')
    const time = await viaProxy.waitFor((m) => m.topic === 'server/time')
    expect(Math.abs(Date.parse(time.text) - Date.now())).toBeLessThan(5_000)
  })

  it('closes the page\'s connection when the broker cannot be reached, and keeps serving', async () => {
    const web = await startWebServer({ BROKER_WS_URL: `ws://127.0.0.1:${await freePort()}`, MQTT_URL: `mqtt://127.0.0.1:${await freePort()}` })
    const page = mqtt.connect(`ws://127.0.0.1:${web.port}/mqtt`, { protocolVersion: 4, reconnectPeriod: 0 })
    cleanup.defer(() => { page.end(true) })
    let connected = false
    page.on('connect', () => { connected = true })
    await new Promise<void>((resolve) => page.once('close', () => resolve()))
    expect(connected).toBe(false)
    expect((await fetch(`http://127.0.0.1:${web.port}/healthz`)).status).toBe(200)
  })

  it('names each bad setting', () => {
    expect(() => loadWebServerConfig({ BROKER_WS_URL: 'http://x', MQTT_URL: 'tcp://x', TLS_KEY: 'k' })).toThrow(
      /BROKER_WS_URL: must be a ws:\/\/ or wss:\/\/ URL[\s\S]*MQTT_URL: must be an mqtt/)
    expect(() => loadWebServerConfig({ TLS_KEY: 'k' })).toThrow(/TLS_CERT: TLS_CERT and TLS_KEY must be set together/)
    expect(() => loadWebServerConfig({ TOPIC_PREFIX: 'venue/#' })).toThrow(/TOPIC_PREFIX: must be MQTT topic levels without wildcards/)
    expect(() => loadWebServerConfig({ MAX_JOB_BYTES: '0' })).toThrow(/MAX_JOB_BYTES/)
  })

  it('refuses to start with AUTH_FILE unless MQTT_USERNAME is an admin of it, naming both, and with a TOKEN_SECRET that is not one', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const broker = cleanup.add(await startBroker({}))
    const env = { BROKER_WS_URL: broker.wsUrl, MQTT_URL: broker.mqttUrl, AUTH_FILE: authFile }
    for (const who of [{ MQTT_USERNAME: 'alice', MQTT_PASSWORD: PASSWORDS.alice }, {}]) {
      const config = loadWebServerConfig({ PORT: '0', LISTEN_HOST: '127.0.0.1', DATA_DIR: dir, ...env, ...who })
      const web = new WebServer({ config, logger: silentLogger() })
      await expect(web.start()).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/MQTT_USERNAME must be an admin of AUTH_FILE/) })
    }
    expect(() => loadWebServerConfig({ ...env, TOKEN_SECRET: 'secret' })).toThrow(/TOKEN_SECRET: must be at least 32 random bytes/)
    expect(() => loadWebServerConfig({ ...env, TOKEN_SECRET: 'secret' })).not.toThrow(/secret"/)
    // An admin: it starts, and makes the token secret once in DATA_DIR, readable by its owner only.
    await startWebServer({ ...env, MQTT_USERNAME: 'ops', MQTT_PASSWORD: PASSWORDS.ops, DATA_DIR: dir })
    expect((await stat(path.join(dir, 'token-secret'))).mode & 0o777).toBe(0o600)
  })

  it('takes TOPIC_PREFIX (the broker\'s), `printers` by default', () => {
    expect(loadWebServerConfig({}).TOPIC_PREFIX).toBe('printers')
    expect(loadWebServerConfig({ TOPIC_PREFIX: 'venue/printers' }).TOPIC_PREFIX).toBe('venue/printers')
  })

  it('bundles the page script and the client library at its first start only: the next start takes them from the cache', async () => {
    const pageCacheDir = path.join(await tempDir(cleanup), 'cache')
    const env = { BROKER_WS_URL: `ws://127.0.0.1:${await freePort()}`, MQTT_URL: `mqtt://127.0.0.1:${await freePort()}` }
    const starts: string[][] = []
    for (let i = 0; i < 2; i++) {
      const log = captureLog('info')
      const web = await startWebServer(env, { logger: log.logger, pageCacheDir })
      const script = await fetch(`http://127.0.0.1:${web.port}/app.js`)
      expect(script.status).toBe(200)
      expect((await script.text()).length).toBeGreaterThan(10_000)
      const library = await fetch(`http://127.0.0.1:${web.port}/printwire-client.js`)
      expect(library.status).toBe(200)
      expect(library.headers.get('content-type')).toMatch(/^text\/javascript/)
      expect(await library.text()).toMatch(/export\{.*\bconnect\b/s)
      await web.stop()
      starts.push(log.entries().map((entry) => String(entry.msg)).filter((msg) => /^(page|client) script/.test(msg)))
      if (i === 0) expect((await stat(path.join(pageCacheDir, 'page-bundle.json'))).isFile()).toBe(true)
      if (i === 0) expect((await stat(path.join(pageCacheDir, 'client-bundle.json'))).isFile()).toBe(true)
    }
    expect(starts).toEqual([['page script built', 'client script built'], ['page script from cache', 'client script from cache']])
  })
})

describe('npm run web as a process', () => {
  it('starts without loading the broker or its stores (ioredis, Aedes; LevelDB only for its own job history)', async () => {
    const record = path.join(await tempDir(cleanup), 'loaded.txt')
    const web = cleanup.add(new PartProcess('web/server/main.ts', {
      PORT: '0',
      LISTEN_HOST: '127.0.0.1',
      BROKER_WS_URL: `ws://127.0.0.1:${await freePort()}`,
      MQTT_URL: `mqtt://127.0.0.1:${await freePort()}`,
      DATA_DIR: await tempDir(cleanup),
      PRINTWIRE_LOADED_MODULES: record
    }, ['--import', RECORD_LOADED_MODULES]))
    await web.waitForLog('web server listening')
    expect(await web.kill('SIGTERM')).toBe(0)
    const loaded = new Set((await readFile(record, 'utf8')).split('\n').filter((url) => url.startsWith('file:')))
    const has = (part: string): string[] => [...loaded].filter((url) => url.includes(part))
    // The record sees this process's modules: its own, and the packages it does use.
    expect(has('/web/server/webServer.ts')).toHaveLength(1)
    expect(has('/node_modules/express/')).not.toEqual([])
    expect(has('/node_modules/mqtt/')).not.toEqual([])
    expect([...loaded].filter((url) => url.includes('/broker/') && !url.endsWith('/broker/config.ts'))).toEqual([])
    for (const store of ['ioredis', 'aedes', 'aedes-persistence-level', 'aedes-persistence-redis', 'mqemitter-redis']) {
      expect(has(`/node_modules/${store}/`), store).toEqual([])
    }
  })
})

describe('/config.json', () => {
  it('is served by `npm run web` from its own settings, with no user name or password', async () => {
    const web = await startWebServer({
      BROKER_WS_URL: `ws://127.0.0.1:${await freePort()}`,
      MQTT_URL: `mqtt://127.0.0.1:${await freePort()}`,
      MQTT_USERNAME: 'clock-admin',
      MQTT_PASSWORD: 'clock-secret',
      TOPIC_PREFIX: 'venue',
      MAX_JOB_BYTES: '4096'
    })
    const config = await getConfig(`http://127.0.0.1:${web.port}`)
    expect(config.status).toBe(200)
    expect(config.type).toMatch(/^application\/json/)
    expect(config.cache).toBe('no-cache')
    expect(JSON.parse(config.text)).toEqual({ ...VENUE_CONFIG, broker: 'mosquitto' })
    expect(config.text).not.toMatch(/clock-admin|clock-secret/)
  })

  it('is served by the embedded broker from its settings, public like the page, naming no user or file', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1', TOPIC_PREFIX: 'venue', MAX_JOB_BYTES: '4096' }))
    // With AUTH_FILE the page and its config need no log-in (the broker asks for one on /mqtt).
    expect((await fetch(`${broker.httpUrl}/`)).status).toBe(200)
    const config = await getConfig(broker.httpUrl)
    expect(config.status).toBe(200)
    expect(JSON.parse(config.text)).toEqual({ ...VENUE_CONFIG, broker: 'printwire' })
    for (const secret of [...Object.keys(PASSWORDS), ...Object.values(PASSWORDS), dir]) expect(config.text).not.toContain(secret)
  })

  it('has the default prefix and limit when none are set', async () => {
    const broker = cleanup.add(await startBroker())
    expect(JSON.parse((await getConfig(broker.httpUrl)).text)).toEqual({ topicPrefix: 'printers', maxJobBytes: 1048576, maxPayloadBytes: maxPayloadBytes(1048576), mqttPath: '/mqtt', broker: 'printwire' })
  })
})
