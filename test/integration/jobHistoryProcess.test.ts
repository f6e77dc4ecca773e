/**
 * The job history of a broker process across its restart: with level, a stopped broker's history is read by the
 * next one (and the LevelDB holds both runs' jobs); with redis, a broker killed with SIGKILL loses none of what it
 * had recorded, and the next process goes on recording beside it.
 */
import path from 'node:path'
import { Redis } from 'ioredis'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { RedisJobHistory } from '../../broker/redisJobHistory.ts'
import { DAY_MS } from '../../runtime/jobHistory/jobHistoryStore.ts'
import { LevelJobHistory } from '../../runtime/jobHistory/levelJobHistory.ts'
import { brokerProcessEnv, startBrokerProcess } from '../../harness/brokerProcess.ts'
import { waitForRecord } from '../../harness/jobHistory.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const LIMITS = { retentionMs: 7 * DAY_MS, perPrinter: 10_000 }


/** Prints `jobId` through the broker process at `url` (the relay of `stateDir`, and a printer) and waits for its result. */
async function printThrough (url: string, stateDir: string, jobId: string): Promise<void> {
  const sim = await startPrinter()
  const client = await TestClient.connect(url)
  await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
  const relay = await startRelay(relayEnv(url, { lobby: sim }, stateDir))
  try {
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: jobId, data: '<RC10,10>history<p>' }))
    expect((await client.outcome('lobby', jobId)).json.status).toBe('printed')
  } finally {
    await relay.stop()
    await client.stop()
    await sim.stop()
  }
}

describe('job history of a broker process', () => {
  it('level: the next process keeps the history of the one before', async () => {
    const env = await brokerProcessEnv(cleanup, 'level')
    const url = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const stateDir = await tempDir(cleanup)
    const first = await startBrokerProcess(cleanup, env)
    await printThrough(url, stateDir, 'p-first')
    // A stop (SIGTERM) writes what was noted before the process ends.
    expect(await first.kill('SIGTERM')).toBe(0)
    const second = await startBrokerProcess(cleanup, env)
    await printThrough(url, stateDir, 'p-second')
    expect(await second.kill('SIGTERM')).toBe(0)

    const db = new Level<string, string>(path.join(env.DATA_DIR as string, 'broker-level'))
    await db.open()
    cleanup.defer(() => db.close())
    const history = new LevelJobHistory({ db, limits: LIMITS })
    expect(await history.get('p-first')).toMatchObject({ state: 'printed', anonymous: true })
    expect(await history.get('p-second')).toMatchObject({ state: 'printed', anonymous: true })
    expect((await history.list({ printerId: 'lobby', limit: 10 })).map((r) => r.jobId)).toEqual(['p-second', 'p-first'])
  }, 60_000)

  it('redis: a broker killed with SIGKILL loses none of what it recorded, and the next one goes on', async () => {
    const env = await brokerProcessEnv(cleanup, 'redis')
    const url = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const stateDir = await tempDir(cleanup)
    const redis = new Redis(env.REDIS_URL as string)
    cleanup.defer(async () => { await redis.quit() })
    const history = new RedisJobHistory({ redis, limits: LIMITS })
    const first = await startBrokerProcess(cleanup, env)
    await printThrough(url, stateDir, 'k-first')
    await waitForRecord(history, 'k-first', (r) => r.state === 'printed')
    await first.kill('SIGKILL')
    await startBrokerProcess(cleanup, env)
    await printThrough(url, stateDir, 'k-second')
    await waitForRecord(history, 'k-second', (r) => r.state === 'printed')
    expect(await history.get('k-first')).toMatchObject({ state: 'printed', anonymous: true })
    expect((await history.list({ printerId: 'lobby', limit: 10 })).map((r) => r.jobId)).toEqual(['k-second', 'k-first'])
  }, 60_000)
})
