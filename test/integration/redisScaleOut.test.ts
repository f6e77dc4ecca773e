/**
 * PERSISTENCE=redis: two real broker processes sharing one real redis-server serve the same topics,
 * and the relay's session (with the jobs queued for it) lives in Redis, not in one broker.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, relayEnv, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { freePort } from '../../harness/ports.ts'
import { PartProcess } from '../../harness/processes.ts'
import { startRedis } from '../../harness/redisServer.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function brokerProcess (redisUrl: string): Promise<{ url: string, process: PartProcess }> {
  const env = { PERSISTENCE: 'redis', REDIS_URL: redisUrl, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
  const process = cleanup.add(new PartProcess('broker/main.ts', env))
  const listening = await process.waitForLog('broker listening')
  expect(listening.persistence).toContain('redis')
  return { url: `mqtt://127.0.0.1:${env.MQTT_PORT}`, process }
}

describe('redis persistence', () => {
  it('serves the same topics from two broker processes, and keeps a relay\'s queued jobs across brokers', async () => {
    const redis = cleanup.add(await startRedis())
    const a = await brokerProcess(redis.url)
    const b = await brokerProcess(redis.url)
    const sim = cleanup.add(await startPrinter())

    // The relay on broker A; the client on broker B.
    const clientB = cleanup.add(await TestClient.connect(b.url))
    await clientB.subscribe('printers/lobby/responses', 'printers/lobby/status')
    const relayConfig = relayEnv(a.url, { lobby: sim }, await tempDir(cleanup))
    const relay = await startRelay(relayConfig)
    await clientB.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online', 10_000, 'status through A→B')
    await clientB.publish('printers/lobby/jobs', JSON.stringify({ id: 'via-b', data: 'across brokers<p>' }))
    expect((await clientB.outcome('lobby', 'via-b')).json.status).toBe('printed')

    // The relay goes away; a job is published on B; the relay comes back on B and gets it.
    await relay.stop()
    await clientB.publish('printers/lobby/jobs', JSON.stringify({ id: 'queued-in-redis', data: 'from redis<p>' }))
    cleanup.add(await startRelay({ ...relayConfig, MQTT_URL: b.url }))
    expect((await clientB.outcome('lobby', 'queued-in-redis')).json.status).toBe('printed')

    // Broker A restarts; the retained status is still there for a new client on it.
    await a.process.kill('SIGTERM')
    const a2 = await brokerProcess(redis.url)
    const late = cleanup.add(await TestClient.connect(a2.url))
    await late.subscribe('printers/lobby/status')
    const retained = await late.waitFor((m) => m.topic === 'printers/lobby/status')
    expect(retained.retain).toBe(true)
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['across brokers<p>', 'from redis<p>'])
  })

  it('grants a persistent client\'s SUBSCRIBE of several topics at once, and queues for it while it is away', async () => {
    const redis = cleanup.add(await startRedis())
    const broker = await brokerProcess(redis.url)
    const options = { clean: false, clientId: 'persistent-multi' }
    let subscriber = await TestClient.connect(broker.url, options)
    // Aedes stores this once per topic; with Redis that used to lose the SUBACK (see broker/persistence.ts).
    await subscriber.subscribe('printers/a/responses', 'printers/b/responses', 'printers/c/errors')
    await subscriber.stop()
    const publisher = cleanup.add(await TestClient.connect(broker.url))
    await publisher.publish('printers/b/responses', '{"queued":true}')
    subscriber = cleanup.add(await TestClient.connect(broker.url, options))
    const queued = await subscriber.waitFor((m) => m.topic === 'printers/b/responses')
    expect(queued.json).toEqual({ queued: true })
  })

  it('refuses to start when Redis cannot be reached, saying so', async () => {
    const env = { PERSISTENCE: 'redis', REDIS_URL: `redis://127.0.0.1:${await freePort()}`, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    const broker = cleanup.add(new PartProcess('broker/main.ts', env))
    expect(await broker.exitCode()).toBe(1)
    expect(JSON.stringify(broker.logs) + broker.stderr).toMatch(/ECONNREFUSED|connect/i)
  })
})
