/**
 * One relay per printer (issue #10, finding 4): a second relay for a printer, with another RELAY_ID or the same
 * one, prints nothing and says so; every job prints once. Retained jobs never print again for a new relay session.
 */
import { afterEach, describe, expect, it } from 'vitest'
import pino from 'pino'
import { loadRelayConfig } from '../../relay/config.ts'
import { Relay } from '../../relay/relay.ts'
import { persistenceOf } from '../../broker/aedes/internals.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** A relay whose log lines are kept, to read what it tells its operator. */
async function relayWithLog (env: Record<string, string>): Promise<{ relay: Relay, lines: Array<{ msg: string, [key: string]: unknown }> }> {
  const lines: Array<{ msg: string }> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as { msg: string }) } })
  const relay = cleanup.add(new Relay({ config: loadRelayConfig(env), logger }))
  await relay.start()
  return { relay, lines }
}

async function printTen (client: TestClient, prefix: string): Promise<void> {
  const ids = Array.from({ length: 10 }, (_, i) => `${prefix}-${i}`)
  for (const id of ids) await client.publish('printers/lobby/jobs', JSON.stringify({ id, data: `<RC1,1>${id}<p>` }))
  for (const id of ids) expect((await client.outcome('lobby', id)).json.status).toBe('printed')
}

describe('two relays for one printer (embedded broker)', () => {
  it('with different RELAY_IDs: the second is refused the jobs, says so in its log and the status, and every job prints once', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/status', 'printers/lobby/responses', 'printers/lobby/errors')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'venue-a' })))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')

    const second = await relayWithLog(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'venue-b' }))
    const conflict = await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.relayId === 'venue-b', 10_000, 'the conflict status').catch((error: Error) => { throw new Error(`${error.message}; second relay said: ${JSON.stringify(second.lines)}`) })
    expect(conflict.json).toMatchObject({ state: 'error', detail: expect.stringMatching(/two relays/) })
    expect(second.lines.some((l) => /another relay \(another RELAY_ID\) serves this printer/.test(l.msg))).toBe(true)

    await printTen(client, 'once')
    expect(sim.tickets).toHaveLength(10)
    // Nor the printer's cancels: its session would answer cancels of jobs the first relay prints.
    const cancelReaders = await persistenceOf(broker.broker.broker).subscriptionsByTopic('printers/lobby/cancel')
    expect(cancelReaders.map((sub) => sub.clientId)).toEqual(['printwire-relay:venue-a:lobby'])
    // The second relay left without its Will: the printer was never announced `offline` while the first served it.
    expect(client.messages.filter((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'offline')).toEqual([])
  })

  it('with the same RELAY_ID: the second process is refused while the first is connected, and every job prints once', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/status', 'printers/lobby/responses', 'printers/lobby/errors')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'twin' })))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')

    const second = await relayWithLog(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'twin' }))
    await expect.poll(() => second.lines.some((l) => /another relay process with the same RELAY_ID is connected/.test(l.msg)), { timeout: 10_000 }).toBe(true)
    await printTen(client, 'twin')
    expect(sim.tickets).toHaveLength(10)
    // The first was never knocked off: `online` from its process only, no `offline`; after the first, each status
    // only says how many jobs wait (`queued`), each a change (a new connection would announce the same again).
    const statuses = client.messages.filter((m) => m.topic === 'printers/lobby/status').map((m) => m.json)
    expect(new Set(statuses.map((s) => `${s?.state as string} ${s?.instance as string}`))).toEqual(new Set([`online ${statuses[0]?.instance as string}`]))
    statuses.slice(1).forEach((status, i) => expect(status?.queued, JSON.stringify(statuses)).not.toBe(statuses[i]?.queued))
  })

  it('lets the same relay process take its session back at once over a connection the broker still thinks alive', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const relay = cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses')
    // The relay's own client reconnects while its old connection is still open on the broker's side.
    const link = (relay as unknown as { running: { lanes: Array<{ link: { client: { stream: { destroy(): void } } } }> } }).running.lanes[0]?.link
    link?.client.stream.destroy()
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'after-reconnect', data: 'x<p>' }))
    expect((await client.outcome('lobby', 'after-reconnect', 15_000)).json.status).toBe('printed')
  })
})

describe.each(BROKER_TARGETS)('retained jobs on $name', (target) => {
  it('never prints a retained job for a new relay session, and tells its publisher', async () => {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    const urls = await target.start(authFile, dir, cleanup)
    const sim = cleanup.add(await startPrinter())
    const alice = cleanup.add(await TestClient.connect(urls.mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
    await alice.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'retained-1', data: '<RC1,1>retained-ticket<p>' }), { retain: true })

    const relayCredentials = { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] }
    for (const relayId of ['first', 'second']) {
      // Each a new relay session (the first relay's session is ended so the second one is allowed).
      const relay = await startRelay(relayEnv(urls.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: relayId, ...relayCredentials }))
      await alice.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.relayId === relayId && m.json?.state === 'online', 10_000, `${relayId} online`)
      const fence = `fence-${relayId}`
      await alice.publish('printers/lobby/jobs', JSON.stringify({ id: fence, data: '<RC1,1>fence<p>' }))
      expect((await alice.outcome('lobby', fence)).json.status).toBe('printed')
      await relay.stop()
      const ended = await TestClient.connect(urls.mqttUrl, { clientId: `printwire-relay:${relayId}:lobby`, clean: true, username: 'relay-lobby', password: PASSWORDS['relay-lobby'] })
      await ended.stop()
    }
    // The embedded broker refuses it when it is published (with its id); on Mosquitto, which keeps it, each new
    // relay session answers about the retained copy (naming the job, not answering for it: it may have printed).
    const refusal = await alice.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.code === 'INVALID_JOB' &&
      (m.json.jobId === 'retained-1' || (m.json.jobId === undefined && String(m.json.message).includes('retained-1'))), 10_000, 'the refusal of the retained job')
    expect(refusal.json).toMatchObject({ retryable: false, message: expect.stringMatching(/retain/) })
    expect(sim.tickets.filter((t) => t.bytes.toString().includes('retained-ticket'))).toEqual([])
  })
})
