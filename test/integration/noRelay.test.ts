/**
 * NO_RELAY on the embedded broker (SPEC "No relay, cancel"): a job whose printer no relay session serves is
 * answered at once on `errors` and not kept, so a relay started later prints nothing; a relay that is away but
 * whose session exists still gets it. (Mosquitto cannot answer this: README "NO_RELAY and Mosquitto".)
 */
import { connectedClients } from '../../broker/aedes/internals.ts'
import { afterEach, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const texts = (sim: { tickets: Array<{ bytes: Buffer }> }): string[] => sim.tickets.map((t) => t.bytes.toString())

describe('NO_RELAY (embedded broker)', () => {
  it('answers a job for a printer no relay serves at once with NO_RELAY and its id, acknowledges it, keeps nothing: a relay started later prints nothing', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    // The publisher gets its PUBACK: the job was handled.
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'nobody-1', data: '<RC1,1>nobody-1<p>' }))
    const answer = await client.outcome('lobby', 'nobody-1', 5_000)
    expect(answer.json).toMatchObject({ jobId: 'nobody-1', printerId: 'lobby', code: 'NO_RELAY', retryable: false })
    expect(answer.json.message).toMatch(/no relay serves printer lobby/)
    expect(Date.parse(answer.json.at)).not.toBeNaN()
    // A raw job (no id) too, answered without one; and one at QoS 0, one at QoS 2.
    await client.publish('printers/lobby/jobs', '<RC1,1>raw-nobody<p>')
    await client.client.publishAsync('printers/lobby/jobs', JSON.stringify({ id: 'nobody-q0', data: '<RC1,1>nobody-q0<p>' }), { qos: 0 })
    await client.outcome('lobby', 'nobody-q0', 5_000)
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'nobody-q2', data: '<RC1,1>nobody-q2<p>' }), { qos: 2 })
    await client.outcome('lobby', 'nobody-q2', 5_000)
    const refusals = client.messages.filter((m) => m.topic === 'printers/lobby/errors').map((m) => m.json)
    expect(refusals.map((e) => [e.jobId, e.code])).toEqual([['nobody-1', 'NO_RELAY'], [undefined, 'NO_RELAY'], ['nobody-q0', 'NO_RELAY'], ['nobody-q2', 'NO_RELAY']])
    expect(refusals[1]).not.toHaveProperty('jobId')

    // The relay's first start: nothing was kept for it, so only the job sent now prints.
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online', 10_000, 'lobby online')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'served', data: '<RC1,1>served<p>' }))
    expect((await client.outcome('lobby', 'served')).json).toMatchObject({ status: 'printed' })
    expect(texts(sim)).toEqual(['<RC1,1>served<p>'])
  })

  it('still queues a job for a relay that is away with its session, and it prints when the relay returns', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    const env = relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))
    const first = await startRelay(env)
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await first.stop()
    await expect.poll(() => connectedClients(broker.broker.broker)['printwire-relay:test-relay:lobby']).toBeUndefined()
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'away-1', data: '<RC1,1>away-1<p>' }))
    await client.publish('printers/lobby/jobs', '<RC1,1>away-raw<p>')
    cleanup.add(await startRelay(env))
    expect((await client.outcome('lobby', 'away-1')).json).toMatchObject({ status: 'printed' })
    await sim.waitForTickets(2, 10_000)
    expect(texts(sim)).toEqual(['<RC1,1>away-1<p>', '<RC1,1>away-raw<p>'])
    expect(client.messages.filter((m) => m.json?.code === 'NO_RELAY')).toEqual([])
  })

  it('does not count a subscriber that is not a relay (an admin on #, a persistent session of another id, another printer\'s relay)', async () => {
    const broker = cleanup.add(await startBroker())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/errors')
    const watcher = await mqtt.connectAsync(broker.mqttUrl, { protocolVersion: 4, clientId: 'ops-console', clean: false, reconnectPeriod: 0 })
    cleanup.defer(() => watcher.endAsync(true))
    await watcher.subscribeAsync(['#', 'printers/lobby/jobs'], { qos: 1 })
    // A relay session of printer `bar` (its id names bar) that subscribed to lobby's jobs is not lobby's relay.
    const otherRelay = await mqtt.connectAsync(broker.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay:venue:bar', clean: false, reconnectPeriod: 0 })
    cleanup.defer(() => otherRelay.endAsync(true))
    await otherRelay.subscribeAsync('printers/lobby/jobs', { qos: 1 })
    const seen: string[] = []
    watcher.on('message', (topic) => { if (topic.endsWith('/jobs')) seen.push(topic) })
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'watched', data: '<RC1,1>watched<p>' }))
    expect((await client.outcome('lobby', 'watched', 5_000)).json).toMatchObject({ code: 'NO_RELAY' })
    expect(seen).toEqual([])
  })

  it('counts the session of a relay of the earlier client id form (a relay not yet upgraded)', async () => {
    const broker = cleanup.add(await startBroker())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/errors')
    const received: string[] = []
    const earlier = await mqtt.connectAsync(broker.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay-venue-lobby', clean: false, reconnectPeriod: 0 })
    cleanup.defer(() => earlier.endAsync(true))
    earlier.on('message', (_topic, payload) => received.push(payload.toString()))
    await earlier.subscribeAsync('printers/lobby/jobs', { qos: 1 })
    await client.publish('printers/lobby/jobs', '<RC1,1>to-earlier<p>')
    await expect.poll(() => received).toEqual(['<RC1,1>to-earlier<p>'])
    expect(client.messages).toEqual([])
  })
})
