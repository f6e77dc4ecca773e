/**
 * The broker as a real process, for tests that kill it (SIGKILL) and start it again on the same store; and
 * persistent sessions left on it, then read back after the restart.
 */
import mqtt from 'mqtt'
import { connectListening } from './mqttClient.ts'
import type { Cleanup } from './parts.ts'
import { tempDir } from './parts.ts'
import { freePort } from './ports.ts'
import { PartProcess } from './processes.ts'
import { startRedis } from './redisServer.ts'

/** Environment for a broker process on free ports with `persistence` (a temporary LevelDB, or a fresh Redis). */
export async function brokerProcessEnv (cleanup: Cleanup, persistence: 'level' | 'redis'): Promise<Record<string, string>> {
  const env: Record<string, string> = { PERSISTENCE: persistence, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
  if (persistence === 'level') env.DATA_DIR = await tempDir(cleanup)
  else env.REDIS_URL = (cleanup.add(await startRedis())).url
  return env
}

export async function startBrokerProcess (cleanup: Cleanup, env: Record<string, string>): Promise<PartProcess> {
  const broker = cleanup.add(new PartProcess('broker/main.ts', env))
  await broker.waitForLog('broker listening')
  return broker
}

/**
 * A persistent session subscribed to `topics`, then gone: what the broker queues for it must survive. It never
 * acknowledges anything: a message the broker routes to it while its DISCONNECT is still on the way stays in the
 * session (acknowledged, it would be gone from the queue, and a test would count it lost).
 */
export async function leaveSession (url: string, clientId: string, topics: string[], withinMs = 30_000): Promise<void> {
  // A broker still getting its store back (Redis just restarted) may close a connection before its CONNACK:
  // tried again until `withinMs` has passed, rather than waiting for ever on a connection that is gone.
  const deadline = Date.now() + withinMs
  for (;;) {
    const session = mqtt.connect(url, { protocolVersion: 4, clientId, clean: false, reconnectPeriod: 0 })
    session.handleMessage = () => {}
    const connected = await new Promise<boolean>((resolve, reject) => {
      session.once('connect', () => resolve(true))
      session.once('close', () => resolve(false))
      session.once('error', reject)
    })
    if (connected) {
      await session.subscribeAsync(topics, { qos: 1 })
      await session.endAsync()
      return
    }
    session.end(true)
    if (Date.now() > deadline) throw new Error(`the broker at ${url} closed every connection of ${clientId} before its CONNACK for ${withinMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** Connects the session again and collects what it is sent (each payload's first 200 bytes) until `quietMs` pass with nothing new. */
export async function drainSession (url: string, clientId: string, quietMs = 1500): Promise<string[]> {
  const received: string[] = []
  let last = Date.now()
  const session = await connectListening(url, { protocolVersion: 4, clientId, clean: false, reconnectPeriod: 0 }, (_topic, payload) => {
    received.push(payload.subarray(0, 200).toString())
    last = Date.now()
  })
  last = Date.now()
  while (Date.now() - last < quietMs) await new Promise((resolve) => setTimeout(resolve, 100))
  await session.endAsync()
  return received
}
