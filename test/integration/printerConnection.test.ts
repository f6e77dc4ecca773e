/**
 * The relay's printer connection is kept open between jobs and closed once idle (relay/printerConnection.ts),
 * against the real simulator, which, like a Boca, takes one connection at a time.
 */
import { once } from 'node:events'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function setup (idleCloseMs: number): Promise<{ sim: BocaSimulator, client: TestClient }> {
  const broker = cleanup.add(await startBroker())
  const sim = cleanup.add(await startPrinter())
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
  cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { PRINTER_IDLE_CLOSE_MS: String(idleCloseMs) })))
  await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
  return { sim, client }
}

async function print (client: TestClient, id: string): Promise<void> {
  await client.publish('printers/lobby/jobs', JSON.stringify({ id, data: `${id}<p>` }))
  expect((await client.outcome('lobby', id)).json.status).toBe('printed')
}

describe('the kept printer connection', () => {
  it('prints jobs in a row over one connection, closes it once idle, and opens a new one for the next job', async () => {
    const { sim, client } = await setup(300)
    const before = sim.connections // the relay's start-up reachability check
    const idleClosed = once(sim, 'disconnect')
    for (const id of ['a', 'b', 'c', 'd']) await print(client, id)
    expect(sim.connections - before).toBe(1)
    await idleClosed
    // Closed: another application can take the printer now.
    const accepted = once(sim, 'connection')
    const other = net.connect(sim.port, sim.address.split(':')[0])
    cleanup.defer(() => { other.destroy() })
    await accepted
    const released = once(sim, 'disconnect')
    other.destroy()
    await released
    expect(sim.refusedConnections).toBe(0)
    await print(client, 'e')
    expect(sim.connections - before).toBe(3)
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['a<p>', 'b<p>', 'c<p>', 'd<p>', 'e<p>'])
  })

  it('reconnects without an error when the printer closed the kept connection between jobs', async () => {
    const { sim, client } = await setup(20_000)
    await print(client, 'first')
    // The printer goes away and comes back (its connection reset), while the relay keeps its end.
    const closed = once(sim, 'disconnect')
    await sim.setState('offline')
    await closed
    await sim.setState('ready')
    await print(client, 'second')
    expect(client.messages.filter((m) => m.topic === 'printers/lobby/errors')).toEqual([])
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['first<p>', 'second<p>'])
  })

  it('refuses a PRINTER_IDLE_CLOSE_MS at or past a Boca\'s 30 s idle reset', async () => {
    const { loadRelayConfig } = await import('../../relay/config.ts')
    expect(() => loadRelayConfig({ PRINTERS: 'a=h', PRINTER_IDLE_CLOSE_MS: '30000' })).toThrow(/PRINTER_IDLE_CLOSE_MS: must be at most 25000/)
  })
})
