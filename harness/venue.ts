/**
 * A venue for tests: a broker, a simulated printer and a relay serving it as `lobby`, seen online (its status
 * retained at the broker), so that a first job is never answered NO_RELAY. With an AUTH_FILE in `env`, the relay
 * logs in as `relay-lobby` and the status is watched as `ops` (harness/accessTargets.ts's users).
 */
import type { BocaSimulator } from '../printer-sim/bocaSimulator.ts'
import { PASSWORDS } from './accessTargets.ts'
import { TestClient } from './mqttClient.ts'
import { relayEnv, startBroker, startPrinter, startRelay, tempDir, type Cleanup, type StartedBroker } from './parts.ts'

export interface Venue {
  broker: StartedBroker
  printer: BocaSimulator
}

export async function startVenue (cleanup: Cleanup, env: Record<string, string> = {}): Promise<Venue> {
  const secured = env.AUTH_FILE !== undefined
  const broker = cleanup.add(await startBroker(env))
  const printer = cleanup.add(await startPrinter())
  const watcher = await TestClient.connect(broker.mqttUrl, secured ? { username: 'ops', password: PASSWORDS.ops } : {})
  try {
    await watcher.subscribe('printers/lobby/status')
    const relayCredentials: Record<string, string> = secured ? { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] } : {}
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: printer }, await tempDir(cleanup), relayCredentials)))
    await watcher.waitFor((m) => m.json?.state === 'online', 10_000, 'lobby online')
  } finally {
    await watcher.stop()
  }
  return { broker, printer }
}
