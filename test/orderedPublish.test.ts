/**
 * Aedes drops a message that another, later-numbered message overtook on its way through an asynchronous
 * store (broker/orderedPublish.ts). Two persistent clients exchange a fast stream through the embedded broker
 * with level persistence: every message must arrive.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, startBroker, tempDir } from './helpers/parts.ts'
import { TestClient } from './helpers/mqttClient.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

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
