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

export interface TwoPrinterVenue {
  lobby: BocaSimulator
  bar: BocaSimulator
  /** An admin client, subscribed to every printer's status. */
  ops: TestClient
}

/**
 * Printers `lobby` and `bar` for a broker with the users of harness/accessTargets.ts (embedded or Mosquitto), each
 * served by its own relay (RELAY_ID a and b, as relay-lobby and relay-bar), both seen online by `ops`.
 */
export async function serveLobbyAndBar (cleanup: Cleanup, mqttUrl: string): Promise<TwoPrinterVenue> {
  const lobby = cleanup.add(await startPrinter())
  const bar = cleanup.add(await startPrinter())
  const ops = cleanup.add(await TestClient.connect(mqttUrl, { username: 'ops', password: PASSWORDS.ops }))
  await ops.subscribe('printers/+/status')
  cleanup.add(await startRelay(relayEnv(mqttUrl, { lobby }, await tempDir(cleanup), { RELAY_ID: 'a', MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
  cleanup.add(await startRelay(relayEnv(mqttUrl, { bar }, await tempDir(cleanup), { RELAY_ID: 'b', MQTT_USERNAME: 'relay-bar', MQTT_PASSWORD: PASSWORDS['relay-bar'] })))
  for (const id of ['lobby', 'bar']) await ops.waitFor((m) => m.topic === `printers/${id}/status` && m.json?.state === 'online', 10_000, `${id} online`)
  return { lobby, bar, ops }
}
