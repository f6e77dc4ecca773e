/**
 * A relay that cannot connect to its broker (issue 14), as the real process: each failure episode is one clear
 * error line per printer naming what to check (MQTT_URL; MQTT_USERNAME/MQTT_PASSWORD), never a stack trace, while
 * it keeps retrying (and never exits); once the broker takes it, it says so and serves its printer.
 */
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { writeTestUsers } from '../../harness/accessTargets.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, tempDir } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { PartProcess, type LogLine } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const ERROR = 50

function errorsOf (relay: PartProcess): LogLine[] {
  return relay.logs.filter((l) => typeof l.level === 'number' && l.level >= ERROR)
}

/** Resolves once the relay has failed to connect `count` times in all (its debug lines after the first). */
async function failedAttempts (relay: PartProcess, count: number): Promise<void> {
  await expect.poll(() => relay.logs.filter((l) => l.msg === 'broker connection failed again').length, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(count)
}

describe('a relay its broker refuses or cannot be reached', () => {
  it('wrong MQTT_PASSWORD: one error per printer naming MQTT_USERNAME/MQTT_PASSWORD, no stack trace, retrying without exiting', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1' }))
    const sim = cleanup.add(await startPrinter())
    const relay = cleanup.add(new PartProcess('relay/main.ts', relayEnv(broker.mqttUrl, { lobby: sim }, path.join(dir, 'state'), { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: 'not-the-password', LOG_LEVEL: 'debug' })))
    await failedAttempts(relay, 3)
    const errors = errorsOf(relay)
    expect(errors.map((l) => l.msg)).toEqual([`the broker at ${broker.mqttUrl} refused this relay's log-in as "relay-lobby": check MQTT_USERNAME/MQTT_PASSWORD and that the user is a relay of this printer; retrying`])
    expect(JSON.stringify(relay.logs)).not.toMatch(/"stack"|not-the-password/)
    expect(relay.child.exitCode).toBeNull()
    expect(relay.stderr).toBe('')
  })

  it('a ws:// MQTT_URL without the broker\'s /mqtt path (the connection closes unanswered): one error naming MQTT_URL and /mqtt', async () => {
    const dir = await tempDir(cleanup)
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const url = broker.httpUrl.replace('http:', 'ws:')
    const relay = cleanup.add(new PartProcess('relay/main.ts', relayEnv(url, { lobby: sim }, path.join(dir, 'state'), { LOG_LEVEL: 'debug' })))
    await failedAttempts(relay, 2)
    expect(errorsOf(relay).map((l) => l.msg)).toEqual([`cannot connect to the broker at ${url} (the connection closed before the broker accepted it): check MQTT_URL (mqtt://, mqtts://, ws:// or wss://; Printwire's broker takes MQTT over WebSockets at /mqtt, e.g. ws://host:5050/mqtt) and MQTT_CA_FILE; retrying`])
    expect(relay.child.exitCode).toBeNull()
  })

  it('nothing listening at MQTT_URL: one error per printer naming MQTT_URL while it lasts; connected once the broker starts there', async () => {
    const dir = await tempDir(cleanup)
    const port = await freePort()
    const url = `mqtt://127.0.0.1:${port}`
    const sim = cleanup.add(await startPrinter())
    const relay = cleanup.add(new PartProcess('relay/main.ts', relayEnv(url, { lobby: sim, bar: sim }, path.join(dir, 'state'), { LOG_LEVEL: 'debug' })))
    await failedAttempts(relay, 4)
    const errors = errorsOf(relay)
    expect(errors).toHaveLength(2)
    expect(errors.map((l) => l.printerId).sort()).toEqual(['bar', 'lobby'])
    for (const line of errors) expect(line.msg).toBe(`cannot reach the broker at ${url} (connect ECONNREFUSED 127.0.0.1:${port}): check MQTT_URL and that the broker runs there; retrying`)
    expect(JSON.stringify(relay.logs)).not.toContain('"stack"')
    expect(relay.child.exitCode).toBeNull()

    const broker = cleanup.add(await startBroker({ MQTT_PORT: String(port) }))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/status')
    await client.waitFor((m) => m.json?.state === 'online', 20_000, 'lobby online')
    expect(relay.logs.filter((l) => l.msg === 'the broker connection works again').length).toBeGreaterThanOrEqual(1)
    expect(errorsOf(relay)).toHaveLength(2)
  })
})
