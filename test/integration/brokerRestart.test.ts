/**
 * The broker as a real process with `level` persistence: a restart keeps the relay's session, the jobs
 * queued for it and the retained status.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, relayEnv, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { freePort } from '../../harness/ports.ts'
import { PartProcess } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function startBrokerProcess (env: Record<string, string>): Promise<PartProcess> {
  const broker = cleanup.add(new PartProcess('broker/main.ts', env))
  await broker.waitForLog('broker listening')
  return broker
}

/**
 * A broker process with `persistence`; the relay visits once (creating its persistent session), goes away, a
 * job is published for it, and the broker restarts on the same ports. Returns what the test needs next.
 */
async function jobLeftForAwayRelayAcrossRestart (persistence: 'level' | 'memory', job: { id: string, data: string }) {
  const env: Record<string, string> = { PERSISTENCE: persistence, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
  if (persistence === 'level') env.DATA_DIR = await tempDir(cleanup)
  const mqttUrl = `mqtt://127.0.0.1:${env.MQTT_PORT}`
  const sim = cleanup.add(await startPrinter())
  const relayConfig = relayEnv(mqttUrl, { lobby: sim }, await tempDir(cleanup))
  const broker = await startBrokerProcess(env)
  const relay = await startRelay(relayConfig)
  const client = await TestClient.connect(mqttUrl)
  await client.subscribe('printers/lobby/status')
  await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
  await relay.stop()
  await client.publish('printers/lobby/jobs', JSON.stringify(job))
  await client.stop()
  expect(await broker.kill('SIGTERM')).toBe(0)
  // Its store closed: it did not give up waiting for it (the callback form of destroy never answered).
  expect(broker.logs.filter((l) => l.level !== undefined && Number(l.level) >= 40).map((l) => l.msg)).not.toContain('the persistence did not close in time; exiting without waiting for it')
  await startBrokerProcess(env)
  return { mqttUrl, sim, relayConfig }
}

describe('broker restart with level persistence', () => {
  it('prints a job published before the restart to an offline relay', async () => {
    const { mqttUrl, sim, relayConfig } = await jobLeftForAwayRelayAcrossRestart('level', { id: 'before-restart', data: 'kept across restart<p>' })
    const client = cleanup.add(await TestClient.connect(mqttUrl))
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
    const { mqttUrl, sim, relayConfig } = await jobLeftForAwayRelayAcrossRestart('memory', { id: 'lost', data: 'gone<p>' })
    const client = cleanup.add(await TestClient.connect(mqttUrl))
    await client.subscribe('printers/lobby/status')
    cleanup.add(await startRelay(relayConfig))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    // The relay is back and subscribed; a job published now prints, and the lost one never comes before it.
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'after', data: 'after<p>' }))
    await sim.waitForTickets(1, 10_000)
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['after<p>'])
  })

  it('stops cleanly with relays connected: their Last Wills, which cannot be stored any more, are no errors', async () => {
    const env = { PERSISTENCE: 'level', DATA_DIR: await tempDir(cleanup), MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    const broker = await startBrokerProcess(env)
    const relays = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const relay = await TestClient.connect(`mqtt://127.0.0.1:${env.MQTT_PORT}`, { clientId: `printwire-relay:stop:p${i}`, clean: false, will: { topic: `printers/p${i}/status`, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } })
      cleanup.add(relay)
      await relay.subscribe(`printers/p${i}/jobs`)
      return relay
    }))
    expect(relays).toHaveLength(20)
    expect(await broker.kill('SIGTERM')).toBe(0)
    expect(broker.logs.filter((l) => Number(l.level) >= 50).map((l) => l.msg)).toEqual([])
  })
})
