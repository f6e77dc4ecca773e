/**
 * Per-printer limits at the broker (issue #10, finding 8): jobs that wait for a relay session are counted until
 * the relay acknowledges them; a job over MAX_QUEUED_JOBS or MAX_QUEUED_BYTES is answered QUEUE_FULL, never
 * queued, never printed, and the jobs within the limits print once the relay is back.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { maxPayloadBytes } from '../../protocol/index.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { startRedis } from '../../harness/redisServer.ts'
import { leaveSession } from '../../harness/brokerProcess.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** A relay session for `printerId` that subscribed and went away, so the broker queues its jobs. */
async function awayRelaySession (url: string, printerId: string, relayId: string): Promise<void> {
  await leaveSession(url, `printwire-relay:${relayId}:${printerId}`, [`printers/${printerId}/jobs`])
}

describe('queue limits at the broker', () => {
  it('answers jobs over MAX_QUEUED_JOBS with QUEUE_FULL, prints the others when the relay is back, and counts down as it takes them', async () => {
    const broker = cleanup.add(await startBroker({ MAX_QUEUED_JOBS: '3' }))
    await awayRelaySession(broker.mqttUrl, 'lobby', 'venue')
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors')
    for (let i = 1; i <= 5; i++) await client.publish('printers/lobby/jobs', JSON.stringify({ id: `q-${i}`, data: `<RC1,1>q-${i}<p>` }))
    for (const id of ['q-4', 'q-5']) {
      expect((await client.outcome('lobby', id)).json).toMatchObject({ code: 'QUEUE_FULL', retryable: false, message: expect.stringMatching(/MAX_QUEUED_JOBS 3/) })
    }
    // A printer without a relay session queues nothing, so nothing is counted for it.
    for (let i = 1; i <= 5; i++) await client.publish('printers/elsewhere/jobs', JSON.stringify({ id: `e-${i}`, data: 'x<p>' }))

    const sim = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'venue' })))
    for (const id of ['q-1', 'q-2', 'q-3']) expect((await client.outcome('lobby', id)).json.status).toBe('printed')
    // Taken by the relay: room again.
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'q-6', data: '<RC1,1>q-6<p>' }))
    expect((await client.outcome('lobby', 'q-6')).json.status).toBe('printed')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['<RC1,1>q-1<p>', '<RC1,1>q-2<p>', '<RC1,1>q-3<p>', '<RC1,1>q-6<p>'])
    expect(client.messages.filter((m) => m.topic === 'printers/elsewhere/errors')).toEqual([])
  })

  it('answers a job over MAX_QUEUED_BYTES with QUEUE_FULL', async () => {
    const maxJobBytes = 20_000
    const broker = cleanup.add(await startBroker({ MAX_JOB_BYTES: String(maxJobBytes), MAX_QUEUED_BYTES: String(maxPayloadBytes(maxJobBytes)) }))
    await awayRelaySession(broker.mqttUrl, 'lobby', 'venue')
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/errors')
    const big = 'A'.repeat(maxJobBytes - 10)
    const ids = Array.from({ length: Math.ceil(maxPayloadBytes(maxJobBytes) / maxJobBytes) + 1 }, (_, i) => `b-${i}`)
    for (const id of ids) await client.publish('printers/lobby/jobs', JSON.stringify({ id, data: `${big}<p>` }))
    const refused = await client.waitFor((m) => m.json?.code === 'QUEUE_FULL')
    expect(refused.json.message).toMatch(/MAX_QUEUED_BYTES/)
    expect(ids).toContain(refused.json.jobId)
  })

  it('refuses to start with MAX_QUEUED_BYTES too small for one job of MAX_JOB_BYTES, saying so', async () => {
    await expect(startBroker({ MAX_QUEUED_BYTES: '1000' })).rejects.toThrow(/MAX_QUEUED_BYTES/)
  })

  it('acknowledges an empty job with Redis counts, and the relay answers it (a count of 0 bytes is still a count)', async () => {
    const redis = cleanup.add(await startRedis())
    const broker = cleanup.add(await startBroker({ PERSISTENCE: 'redis', REDIS_URL: redis.url }))
    const sim = cleanup.add(await startPrinter())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/errors', 'printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'venue' })))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await client.publish('printers/lobby/jobs', '')
    expect((await client.waitFor((m) => m.topic === 'printers/lobby/errors')).json.code).toBe('INVALID_JOB')
    // Taken by the relay: counted no more.
    const store = new Redis(redis.url)
    cleanup.defer(() => { store.disconnect() })
    const counted = async (): Promise<string[]> => [await store.hget('printwire:queued-jobs', 'lobby') ?? '0', await store.hget('printwire:queued-reserved-jobs:' + broker.broker.broker.id, 'lobby') ?? '0']
    await expect.poll(counted, { timeout: 5000 }).toEqual(['0', '0'])
  })
})
