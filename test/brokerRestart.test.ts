/**
 * The broker as a real process with `level` persistence: a restart keeps the relay's session, the jobs
 * queued for it and the retained status.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, relayEnv, startPrinter, startRelay, tempDir } from './helpers/parts.ts'
import { TestClient } from './helpers/mqttClient.ts'
import { freePort } from './helpers/ports.ts'
import { PartProcess } from './helpers/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function startBrokerProcess (env: Record<string, string>): Promise<PartProcess> {
  const broker = cleanup.add(new PartProcess('broker/main.ts', env))
  await broker.waitForLog('broker listening')
  return broker
}

describe('broker restart with level persistence', () => {
  it('prints a job published before the restart to an offline relay', async () => {
    const dataDir = await tempDir(cleanup)
    const env = { PERSISTENCE: 'level', DATA_DIR: dataDir, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    const mqttUrl = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const sim = cleanup.add(await startPrinter())
    const relayConfig = relayEnv(mqttUrl, { lobby: sim }, await tempDir(cleanup))

    let broker = await startBrokerProcess(env)
    // The relay's first visit creates its persistent session and subscription; then it goes away.
    const relay = await startRelay(relayConfig)
    let client = await TestClient.connect(mqttUrl)
    await client.subscribe('printers/lobby/status')
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await relay.stop()
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'before-restart', data: 'kept across restart<p>' }))
    await client.stop()

    expect(await broker.kill('SIGTERM')).toBe(0)
    broker = await startBrokerProcess(env)

    client = cleanup.add(await TestClient.connect(mqttUrl))
    await client.subscribe('printers/lobby/status', 'printers/lobby/responses')
    const retained = await client.waitFor((m) => m.topic === 'printers/lobby/status')
    expect(retained.retain).toBe(true)
    expect(retained.json).toMatchObject({ state: 'offline', detail: 'relay stopped' })

    cleanup.add(await startRelay(relayConfig))
    const result = await client.outcome('lobby', 'before-restart')
    expect(result.json.status).toBe('printed')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['kept across restart<p>'])
  })

  it('loses queued jobs with memory persistence, as documented', async () => {
    const env = { PERSISTENCE: 'memory', MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    const mqttUrl = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const sim = cleanup.add(await startPrinter())
    const relayConfig = relayEnv(mqttUrl, { lobby: sim }, await tempDir(cleanup))
    let broker = await startBrokerProcess(env)
    const relay = await startRelay(relayConfig)
    let client = await TestClient.connect(mqttUrl)
    await client.subscribe('printers/lobby/status')
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await relay.stop()
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'lost', data: 'gone<p>' }))
    await client.stop()
    await broker.kill('SIGTERM')
    broker = await startBrokerProcess(env)
    client = cleanup.add(await TestClient.connect(mqttUrl))
    await client.subscribe('printers/lobby/status')
    cleanup.add(await startRelay(relayConfig))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    // The relay is back and subscribed; give a queued job (there is none) the time a delivery takes.
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'after', data: 'after<p>' }))
    await sim.waitForTickets(1, 10_000)
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['after<p>'])
  })
})
