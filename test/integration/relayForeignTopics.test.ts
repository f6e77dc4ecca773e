/**
 * A relay takes jobs only from its printer's `jobs` topic (and cancels from its `cancel` topic). On Mosquitto any
 * logged-in user can take over any client id (README "What Mosquitto cannot enforce"), a relay's included
 * (`printwire-relay:<RELAY_ID>:<printer>`, guessable), and leave subscriptions in its persistent session: the
 * broker would then deliver those topics to the relay too. It held up: Mosquitto checks each delivery against the
 * relay user's ACL (its printer's jobs and cancel), so nothing planted reaches it. Real Mosquitto, relays and
 * simulated printers.
 */
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { serveLobbyAndBar } from '../../harness/venue.ts'
import { relayClientId } from '../../protocol/index.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

describe('a relay whose session holds subscriptions it did not make', () => {
  it('prints only what comes on its printer\'s jobs topic: a result delivered to it is not a job', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const mosquitto = BROKER_TARGETS.find((t) => t.name === 'Mosquitto')
    if (mosquitto === undefined) throw new Error('no Mosquitto target')
    const { mqttUrl } = await mosquitto.start(authFile, dir, cleanup, { AUTH_FILE: authFile })
    const { lobby, ops } = await serveLobbyAndBar(cleanup, mqttUrl)
    // alice (a client of lobby) under the lobby relay's client id, persistent: she may read lobby's results.
    const planter = await TestClient.connect(mqttUrl, { username: 'alice', password: PASSWORDS.alice, clientId: relayClientId('a', 'lobby'), clean: false })
    await planter.subscribe('printers/lobby/responses')
    await planter.client.endAsync()
    // The relay connects again (its id was taken) and finds the session with alice's subscription in it.
    await ops.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online' && ops.messages.indexOf(m) > 1, 30_000, 'lobby online again')
    const alice = cleanup.add(await TestClient.connect(mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
    await alice.subscribe('printers/lobby/responses', 'printers/lobby/errors')
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'one', data: 'one ticket<p>' }))
    expect((await alice.outcome('lobby', 'one')).json.status).toBe('printed')
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'two', data: 'two ticket<p>' }))
    expect((await alice.outcome('lobby', 'two')).json.status).toBe('printed')
    expect(lobby.tickets.map((t) => t.bytes.toString())).toEqual(['one ticket<p>', 'two ticket<p>'])
    // Nor answered as a job (INVALID_JOB): Mosquitto's ACL delivers a relay user nothing but its jobs and cancels.
    expect(alice.messages.filter((m) => m.topic === 'printers/lobby/errors')).toEqual([])
  })
})
