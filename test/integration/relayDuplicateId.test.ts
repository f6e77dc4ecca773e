/**
 * Two relay processes started with the same RELAY_ID for one printer (issue 14). On Mosquitto they share one client
 * id and knock each other off in turn; each notices its connection closed right after it opens, again and again,
 * and logs an error naming RELAY_ID (takeoverWatch.ts). On the embedded broker the second is refused at once
 * (relayExclusivity.ts) and says so, naming RELAY_ID; the broker tells the first, which says so too and keeps serving.
 */
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import pino from 'pino'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { startMosquitto } from '../../harness/mosquittoBroker.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, tempDir } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { PartProcess } from '../../harness/processes.ts'
import { startRedis } from '../../harness/redisServer.ts'
import { loadRelayConfig } from '../../relay/config.ts'
import { Relay } from '../../relay/relay.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

interface Line { level: number, msg: string, [key: string]: unknown }

async function relayWithLog (env: Record<string, string>): Promise<Line[]> {
  const lines: Line[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Line) } })
  const relay = cleanup.add(new Relay({ config: loadRelayConfig(env), logger }))
  await relay.start()
  return lines
}

const SAME_ID = /another relay process with the same RELAY_ID \(shared-id\) serves printer lobby.*Give each relay its own RELAY_ID/

describe('two relay processes with the same RELAY_ID', () => {
  it('on Mosquitto, which hands the client id over: both log an error naming RELAY_ID', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const mosquitto = cleanup.add(await startMosquitto(authFile, dir))
    const sim = cleanup.add(await startPrinter())
    const env = (n: string): Record<string, string> => relayEnv(mosquitto.mqttUrl, { lobby: sim }, path.join(dir, `state-${n}`), { RELAY_ID: 'shared-id', MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })
    const first = await relayWithLog(env('a'))
    await expect.poll(() => first.some((l) => l.msg === 'connected to broker'), { timeout: 10_000 }).toBe(true)
    const second = await relayWithLog(env('b'))
    for (const lines of [first, second]) {
      await expect.poll(() => lines.filter((l) => l.level === 50 && SAME_ID.test(l.msg)).length, { timeout: 45_000, interval: 200 }).toBe(1)
    }
  }, 90_000)

  it('on the embedded broker: the second is refused and says so, naming RELAY_ID; the first is told, says so too, and is never knocked off', async () => {
    const dir = await tempDir(cleanup)
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const env = (n: string): Record<string, string> => relayEnv(broker.mqttUrl, { lobby: sim }, path.join(dir, `state-${n}`), { RELAY_ID: 'shared-id' })
    const first = await relayWithLog(env('a'))
    await expect.poll(() => first.some((l) => l.msg === 'connected to broker'), { timeout: 10_000 }).toBe(true)
    const second = await relayWithLog(env('b'))
    await expect.poll(() => second.some((l) => l.level === 50 && /same RELAY_ID is connected \(RELAY_ID=shared-id/.test(l.msg)), { timeout: 10_000 }).toBe(true)
    await expect.poll(() => first.filter((l) => l.level === 50 && /refused another relay process with the same RELAY_ID \(shared-id\) for printer lobby: this relay keeps serving it/.test(l.msg)).length, { timeout: 10_000 }).toBe(1)
    expect(first.filter((l) => l.msg === 'connected to broker')).toHaveLength(1)
    // Told again at each of the other's attempts: said once at error level, the rest at debug.
    expect(first.filter((l) => l.level >= 40 && !/same RELAY_ID/.test(l.msg))).toEqual([])
  })

  it('on two broker processes sharing Redis: the one the first relay is connected to tells it, the other refuses the second', async () => {
    const dir = await tempDir(cleanup)
    const redis = cleanup.add(await startRedis())
    const brokers: string[] = []
    for (let i = 0; i < 2; i++) {
      const env = { PERSISTENCE: 'redis', REDIS_URL: redis.url, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
      const process = cleanup.add(new PartProcess('broker/main.ts', env))
      await process.waitForLog('broker listening')
      brokers.push(`mqtt://127.0.0.1:${env.MQTT_PORT}`)
    }
    const sim = cleanup.add(await startPrinter())
    const env = (url: string, n: string): Record<string, string> => relayEnv(url, { lobby: sim }, path.join(dir, `state-${n}`), { RELAY_ID: 'shared-id' })
    const first = await relayWithLog(env(brokers[0] as string, 'a'))
    await expect.poll(() => first.some((l) => l.msg === 'connected to broker'), { timeout: 10_000 }).toBe(true)
    const second = await relayWithLog(env(brokers[1] as string, 'b'))
    await expect.poll(() => second.some((l) => l.level === 50 && /same RELAY_ID is connected \(RELAY_ID=shared-id/.test(l.msg)), { timeout: 10_000 }).toBe(true)
    await expect.poll(() => first.filter((l) => l.level === 50 && /refused another relay process with the same RELAY_ID \(shared-id\)/.test(l.msg)).length, { timeout: 10_000 }).toBe(1)
    expect(first.filter((l) => l.msg === 'connected to broker')).toHaveLength(1)
  }, 60_000)
})
