/**
 * The relay's persistent session and Last Will with real processes: jobs published while it is away
 * print when it returns, in order; a relay killed with SIGKILL shows `offline`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { PartProcess } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** A broker, a printer, and the relay as a real process, once its printer shows `online`. */
async function relayProcessOnline (): Promise<{ broker: StartedBroker, client: TestClient, relay: PartProcess }> {
  const broker = cleanup.add(await startBroker())
  const sim = cleanup.add(await startPrinter())
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/lobby/status')
  const relay = cleanup.add(new PartProcess('relay/main.ts', relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))))
  await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online', 20_000, 'online')
  return { broker, client, relay }
}

describe('relay lifecycle', () => {
  it('prints jobs published while the relay is down, once each, in order, when it returns', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    const env = relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))

    const first = await startRelay(env)
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await first.stop()
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'offline' && m.json?.detail === 'relay stopped')

    const ids = Array.from({ length: 5 }, (_, i) => `away-${i}`)
    for (const id of ids) await client.publish('printers/lobby/jobs', JSON.stringify({ id, data: `${id}<p>` }))
    expect(sim.tickets).toHaveLength(0)

    cleanup.add(await startRelay(env))
    for (const id of ids) expect((await client.outcome('lobby', id)).json).toMatchObject({ status: 'printed' })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(ids.map((id) => `${id}<p>`))
  })

  it('shows `offline` on the retained status when the relay process is killed with SIGKILL', async () => {
    const { broker, client, relay } = await relayProcessOnline()
    expect(await relay.kill('SIGKILL')).toBeNull()
    const offline = await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'offline', 10_000, 'offline')
    expect(offline.json).toMatchObject({ printerId: 'lobby', relayId: 'test-relay', detail: 'relay disconnected' })

    // A late subscriber sees the retained `offline`.
    const late = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await late.subscribe('printers/lobby/status')
    const retained = await late.waitFor((m) => m.topic === 'printers/lobby/status')
    expect(retained.retain).toBe(true)
    expect(retained.json.state).toBe('offline')
  })

  it('stops gracefully on SIGTERM, saying `offline` with "relay stopped"', async () => {
    const { broker, client, relay } = await relayProcessOnline()
    expect(await relay.kill('SIGTERM')).toBe(0)
    const offline = await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'offline')
    expect(offline.json.detail).toBe('relay stopped')
  })

  it('stops what it started when its start fails (an unreadable MQTT_CA_FILE), so that a relay can start on the same state directory', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    const dir = await tempDir(cleanup)
    const env = relayEnv(broker.mqttUrl, { lobby: sim }, dir)
    await expect(startRelay({ ...env, MQTT_CA_FILE: `${dir}/missing-ca.pem` })).rejects.toThrow('MQTT_CA_FILE')
    // The spool (a LevelDB, locked while open) was closed: a relay starts on the same state directory and prints.
    cleanup.add(await startRelay(env))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'after-failed-start', data: 'after<p>' }))
    expect((await client.outcome('lobby', 'after-failed-start')).json).toMatchObject({ status: 'printed' })
  })

  it('refuses to start with bad configuration, naming every bad variable', async () => {
    const relay = cleanup.add(new PartProcess('relay/main.ts', { PRINTERS: 'lobby=host:99999,bad id=x', MQTT_URL: 'http://nope', STATUS_WAIT_MS: '-1' }))
    expect(await relay.exitCode()).toBe(1)
    expect(relay.stderr).toContain('PRINTERS')
    expect(relay.stderr).toContain('99999')
    expect(relay.stderr).toContain('MQTT_URL')
    expect(relay.stderr).toContain('STATUS_WAIT_MS')
  })
})
