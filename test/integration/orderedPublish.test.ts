/**
 * Aedes drops a message that another, later-numbered message overtook on its way through an asynchronous
 * store (broker/aedes/emitOrder.ts). Two persistent clients exchange a fast stream through the embedded broker with
 * level persistence: every message must arrive. With every persistence, a retained message (one more store)
 * followed at once by a plain one reaches a subscriber of both.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, startBroker, tempDir } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { startRedis } from '../../harness/redisServer.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

describe.each(['memory', 'level', 'redis'] as const)('publish order with %s persistence', (persistence) => {
  it('delivers a retained status and the error published right after it, every time', async () => {
    const env: Record<string, string> = { PERSISTENCE: persistence }
    if (persistence === 'level') env.DATA_DIR = await tempDir(cleanup)
    if (persistence === 'redis') env.REDIS_URL = cleanup.add(await startRedis()).url
    const broker = cleanup.add(await startBroker(env))
    const page = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await page.subscribe('printers/lobby/status', 'printers/lobby/errors')
    // A persistent session on the errors, as a box-office server keeps: the error then needs a store too.
    const server = cleanup.add(await TestClient.connect(broker.mqttUrl, { clean: false, clientId: 'box-office' }))
    await server.subscribe('printers/lobby/errors')
    const relay = cleanup.add(await TestClient.connect(broker.mqttUrl))
    const rounds = 200
    for (let i = 0; i < rounds; i++) {
      void relay.publish('printers/lobby/status', `status ${i}`, { retain: true })
      await relay.publish('printers/lobby/errors', `error ${i}`)
    }
    await page.waitFor(() => page.messages.length >= 2 * rounds, 10_000, `${2 * rounds} messages`).catch(() => {})
    const texts = new Set(page.messages.map((m) => m.text))
    const missing = Array.from({ length: rounds }, (_, i) => [`status ${i}`, `error ${i}`]).flat().filter((t) => !texts.has(t))
    expect(missing).toEqual([])
  })
})

describe('publish order with level persistence', () => {
  it('delivers every QoS 1 message of a fast two-way stream between persistent sessions', async () => {
    const broker = cleanup.add(await startBroker({ PERSISTENCE: 'level', DATA_DIR: await tempDir(cleanup) }))
    const relayLike = cleanup.add(await TestClient.connect(broker.mqttUrl, { clean: false, clientId: 'order-a' }))
    const appLike = cleanup.add(await TestClient.connect(broker.mqttUrl, { clean: false, clientId: 'order-b' }))
    await relayLike.subscribe('t/jobs')
    await appLike.subscribe('t/results')
    relayLike.client.on('message', (_topic, payload) => { void relayLike.publish('t/results', `r${payload.toString()}`) })
    const count = 1000
    for (let i = 0; i < count; i++) {
      void appLike.publish('t/jobs', String(i))
      if (i % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    }
    await appLike.waitFor(() => appLike.messages.length >= count, 30_000, `${count} results`).catch(() => {})
    const results = new Set(appLike.messages.map((m) => m.text))
    const missing = Array.from({ length: count }, (_, i) => `r${i}`).filter((r) => !results.has(r))
    expect(missing).toEqual([])
    expect(relayLike.messages).toHaveLength(count)
  })
})
