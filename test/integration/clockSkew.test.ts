/**
 * A relay whose clock is 2 h off judges `expiresAt` by the broker's time, which it learns from `server/time`
 * (issue #10, finding 10), on both brokers with AUTH_FILE: the embedded Aedes broker publishes it itself;
 * in front of Mosquitto the web server does, and Mosquitto's ACL (from `mosquitto-export`) must let the
 * relay user read it. The relay's wall clock is skewed through its deps; everything else is real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'
import type { Clock } from '../../relay/clock.ts'
import { systemClock } from '../../relay/clock.ts'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'

const HOUR = 3_600_000

const skewed = (ms: number): Clock => ({ ...systemClock, now: () => Date.now() + ms })

describe.each(BROKER_TARGETS)('expiresAt by the broker\'s clock on $name', (target) => {
  const cleanup = new Cleanup()
  let mqttUrl: string
  let lobby: BocaSimulator
  let alice: TestClient

  beforeAll(async () => {
    const dir = await tempDir(cleanup)
    await writeTestUsers(`${dir}/auth.json`)
    mqttUrl = (await target.start(`${dir}/auth.json`, dir, cleanup, { SERVER_TIME_INTERVAL_MS: '200' })).mqttUrl
    lobby = cleanup.add(await startPrinter())
    alice = cleanup.add(await TestClient.connect(mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
    await alice.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
  }, 60_000)
  afterAll(() => cleanup.closeAll())

  /** Runs a relay of lobby whose wall clock is `skewMs` off while `body` runs. */
  async function withRelay (skewMs: number, body: () => Promise<void>): Promise<void> {
    const seen = alice.messages.length
    const relay = await startRelay(relayEnv(mqttUrl, { lobby }, await tempDir(cleanup), {
      RELAY_ID: 'skewed', MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'], SERVER_TIME_WAIT_MS: '10000'
    }), { clock: skewed(skewMs) })
    try {
      await alice.waitFor((m) => alice.messages.indexOf(m) >= seen && m.topic === 'printers/lobby/status' && m.json?.state === 'online', 10_000, 'the relay online')
      await body()
    } finally {
      await relay.stop()
    }
  }

  it('prints a job due in a minute on a relay whose clock is 2 h ahead', async () => {
    await withRelay(2 * HOUR, async () => {
      await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'ahead', data: 'ahead<p>', expiresAt: new Date(Date.now() + 60_000).toISOString() }))
      expect((await alice.outcome('lobby', 'ahead', 15_000)).json).toMatchObject({ status: 'printed' })
      expect(lobby.tickets.filter((t) => t.bytes.toString() === 'ahead<p>')).toHaveLength(1)
    })
  })

  it('does not print a job that expired a minute ago on a relay whose clock is 2 h behind', async () => {
    await withRelay(-2 * HOUR, async () => {
      await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'behind', data: 'behind<p>', expiresAt: new Date(Date.now() - 60_000).toISOString() }))
      const outcome = await alice.outcome('lobby', 'behind', 15_000)
      expect(outcome.json).toMatchObject({ code: 'JOB_EXPIRED', retryable: false })
      expect(outcome.json.message).toContain('by the broker\'s clock')
      // A job sent after it, without expiresAt, prints: the expired one never did.
      await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'after-behind', data: 'after-behind<p>' }))
      await alice.outcome('lobby', 'after-behind', 15_000)
      expect(lobby.tickets.filter((t) => t.bytes.toString() === 'behind<p>')).toHaveLength(0)
    })
  })
})
