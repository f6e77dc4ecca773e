/**
 * `npm run web` (web/server/): the page and `/mqtt` in front of another broker's WebSocket listener, and
 * `server/time` published as a client. Here the broker behind it is the embedded one (anonymous); the
 * access contract runs it in front of Mosquitto.
 */
import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../runtime/logger.ts'
import { loadWebServerConfig } from '../web/server/config.ts'
import { WebServer } from '../web/server/webServer.ts'
import { TestClient } from './helpers/mqttClient.ts'
import { Cleanup, startBroker } from './helpers/parts.ts'
import { freePort } from './helpers/ports.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function startWebServer (env: Record<string, string>): Promise<WebServer> {
  const web = cleanup.add(new WebServer({ config: loadWebServerConfig({ PORT: '0', LISTEN_HOST: '127.0.0.1', SERVER_TIME_INTERVAL_MS: '100', ...env }), logger: silentLogger() }))
  await web.start()
  return web
}

describe('web server for an external broker', () => {
  it('serves the page, passes /mqtt through to the broker both ways, and publishes server/time', async () => {
    // The broker's own clock ticks once at start, then hourly: any later server/time is the web server's.
    const broker = cleanup.add(await startBroker({ SERVER_TIME_INTERVAL_MS: '3600000' }))
    const web = await startWebServer({ BROKER_WS_URL: broker.wsUrl, MQTT_URL: broker.mqttUrl })
    const page = await fetch(`http://127.0.0.1:${web.port}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<title>Printwire</title>')

    const viaProxy = cleanup.add(await TestClient.connect(`ws://127.0.0.1:${web.port}/mqtt`))
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
  })
})
