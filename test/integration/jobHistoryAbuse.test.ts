/**
 * The job history against what a publisher of `printers/<id>/responses|errors` may send (a relay's user, or anyone
 * without AUTH_FILE): results and errors are free JSON up to the broker's packet size (1.4 MB), and the history
 * keeps each job's result, final error and 20 retryable errors, for every job of the last JOB_HISTORY_DAYS; then
 * `GET /api/jobs` answers up to 1,000 of them at once. What it keeps of one job must be bounded, whatever was
 * published, in every store. Real embedded broker (memory, level, a real Redis), real mqtt.js client, real HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { callApi, eventually } from '../../harness/httpApi.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, startBroker, tempDir } from '../../harness/parts.ts'
import { startRedis } from '../../harness/redisServer.ts'

const cleanup = new Cleanup()
afterEach(async () => { await cleanup.closeAll() })

const BIG = 'x'.repeat(400_000)
const KEPT_PER_JOB_BYTES = 64 * 1024

describe('the job history against huge results and errors', () => {
  it.each(['memory', 'level', 'redis'])('keeps a bounded record of a job, whatever its results and errors carried (%s)', async (persistence) => {
    const env: Record<string, string> = { PERSISTENCE: persistence }
    if (persistence === 'level') env.DATA_DIR = await tempDir(cleanup)
    if (persistence === 'redis') env.REDIS_URL = cleanup.add(await startRedis()).url
    const broker = cleanup.add(await startBroker(env))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    const at = new Date().toISOString()
    // A job with retryable errors of 400 kB messages, then a final error of the same.
    for (let i = 0; i < 5; i++) await client.publish('printers/lobby/errors', JSON.stringify({ jobId: 'noisy', printerId: 'lobby', code: `PRINTER_ERROR${BIG.slice(0, 1000)}`, message: BIG, retryable: true, at: `${at}${BIG.slice(0, 1000)}` }))
    await client.publish('printers/lobby/errors', JSON.stringify({ jobId: 'noisy', printerId: 'lobby', code: 'UNCERTAIN', message: BIG, retryable: false, at }))
    // A job whose result carries 400 kB of fields of its own.
    await client.publish('printers/lobby/responses', JSON.stringify({ jobId: 'fat', printerId: 'lobby', status: 'printed', bytes: 10, durationMs: 5, printer: { acks: 1, statusBytes: Array(50_000).fill('0x06') }, at, extra: BIG }))

    const noisy = await eventually(() => callApi(broker.httpUrl, 'GET', '/jobs/noisy'), (a) => a.status === 200 && (a.body as { state?: string }).state === 'failed')
    expect(noisy.body).toMatchObject({ jobId: 'noisy', state: 'failed', error: { code: 'UNCERTAIN' }, retryableErrorCount: 5 })
    expect(JSON.stringify(noisy.body).length).toBeLessThan(KEPT_PER_JOB_BYTES)
    const fat = await eventually(() => callApi(broker.httpUrl, 'GET', '/jobs/fat'), (a) => a.status === 200)
    expect(fat.body).toMatchObject({ jobId: 'fat', state: 'printed', result: { jobId: 'fat', status: 'printed', bytes: 10, durationMs: 5, at } })
    expect(JSON.stringify(fat.body).length).toBeLessThan(KEPT_PER_JOB_BYTES)
    const listed = await callApi(broker.httpUrl, 'GET', '/jobs?printer=lobby')
    expect(JSON.stringify(listed.body).length).toBeLessThan(2 * KEPT_PER_JOB_BYTES)
  })
})
