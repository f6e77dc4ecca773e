/**
 * Upgrading a relay from the earlier client id (`printwire-relay-<RELAY_ID>-<printer>`): the jobs queued for the
 * earlier session print once, and that session is ended, so the broker stops queuing for it.
 */
import { access } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { connectListening, TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { leaveEarlierRelaySession } from '../../harness/earlierVersion.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

describe('the session of an earlier relay version', () => {
  it('prints the jobs queued for it once, then ends it', async () => {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    // What a relay and a broker of the earlier version left: two jobs queued under the earlier id.
    await leaveEarlierRelaySession(dir, 'venue', 'lobby', ['old-1', 'old-2'])

    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, PERSISTENCE: 'level', DATA_DIR: dir }))
    const alice = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
    await alice.subscribe('printers/lobby/responses', 'printers/lobby/errors')
    const sim = cleanup.add(await startPrinter())
    const stateDir = await tempDir(cleanup)
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, stateDir, { RELAY_ID: 'venue', MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
    for (const id of ['old-1', 'old-2']) expect((await alice.outcome('lobby', id)).json.status).toBe('printed')
    await expect.poll(async () => await access(path.join(stateDir, 'legacy-session-ended-lobby')).then(() => true, () => false), { timeout: 15_000 }).toBe(true)

    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'new-1', data: '<RC1,1>new-1<p>' }))
    expect((await alice.outcome('lobby', 'new-1')).json.status).toBe('printed')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['<RC1,1>old-1<p>', '<RC1,1>old-2<p>', '<RC1,1>new-1<p>'])
    // The earlier session is gone: nothing was queued for it, and it has no subscription left.
    const received: string[] = []
    const check = await connectListening(broker.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay-venue-lobby', clean: false, reconnectPeriod: 0, username: 'ops', password: PASSWORDS.ops }, (_topic, payload) => received.push(payload.toString()))
    await new Promise((resolve) => setTimeout(resolve, 500))
    await check.endAsync()
    expect(received).toEqual([])
  }, 60_000)

  it('leaves no session behind where there was none', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const stateDir = await tempDir(cleanup)
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, stateDir, { RELAY_ID: 'fresh' })))
    await expect.poll(async () => await access(path.join(stateDir, 'legacy-session-ended-lobby')).then(() => true, () => false), { timeout: 15_000 }).toBe(true)
    const check = mqtt.connect(broker.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay-fresh-lobby', clean: false, reconnectPeriod: 0 })
    const present = await new Promise<boolean>((resolve, reject) => {
      check.once('connect', (connack) => resolve(connack.sessionPresent))
      check.once('error', reject)
    })
    await check.endAsync()
    expect(present).toBe(false)
  })
})
