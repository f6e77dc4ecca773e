/**
 * The job history with real parts: the embedded broker records every job from what it publishes (the user with
 * AUTH_FILE), it survives a broker restart with level and redis, a failing store never holds a job up, and in
 * Mosquitto mode the web server records it as a client.
 */
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { JobHistoryStore } from '../../runtime/jobHistory/jobHistoryStore.ts'
import { silentLogger } from '../../runtime/logger.ts'
import { loadWebServerConfig } from '../../web/server/config.ts'
import { WebServer } from '../../web/server/webServer.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { startMosquitto } from '../../harness/mosquittoBroker.ts'
import { waitForRecord } from '../../harness/jobHistory.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'
import { startRedis } from '../../harness/redisServer.ts'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())


const envelope = (id: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ id, data: '<RC10,10><F3>Hello<p>', ...extra })

/** A broker, a printer and a relay for `lobby`, and a client that sees every result. */
async function pipeline (env: Record<string, string> = {}): Promise<{ broker: StartedBroker, sim: BocaSimulator, client: TestClient }> {
  const broker = cleanup.add(await startBroker(env))
  const sim = cleanup.add(await startPrinter())
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/+/responses', 'printers/+/errors', 'printers/+/status')
  cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))))
  await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online', 10_000, 'lobby online')
  return { broker, sim, client }
}

describe('job history on the embedded broker', () => {
  it('follows a job to printed, and records a raw job from its result', async () => {
    const { broker, client } = await pipeline()
    const history = broker.broker.jobHistory
    const before = Date.now()
    await client.publish('printers/lobby/jobs', envelope('h-printed'))
    await client.outcome('lobby', 'h-printed')
    const record = await waitForRecord(history, 'h-printed', (r) => r.state === 'printed')
    expect(record).toMatchObject({ jobId: 'h-printed', printerId: 'lobby', user: null, anonymous: true, result: { status: 'printed', jobId: 'h-printed' }, retryableErrors: [] })
    expect(Date.parse(record.publishedAt ?? '')).toBeGreaterThanOrEqual(before - 1000)
    expect(Date.parse(record.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(record.publishedAt ?? ''))

    await client.publish('printers/lobby/jobs', '<RC10,10>raw<p>')
    const raw = await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId !== 'h-printed')
    expect(await waitForRecord(history, raw.json.jobId as string, (r) => r.state === 'printed')).toMatchObject({ user: null, publishedAt: null })
    expect((await history.list({ printerId: 'lobby', limit: 10 })).map((r) => r.jobId)).toEqual([raw.json.jobId, 'h-printed'])
  })

  it('records a final error as failed, and the retryable errors seen before a job printed', async () => {
    const { broker, sim, client } = await pipeline()
    const history = broker.broker.jobHistory
    await client.publish('printers/lobby/jobs', envelope('h-expired', { expiresAt: '2020-01-01T00:00:00Z' }))
    await client.outcome('lobby', 'h-expired')
    expect(await waitForRecord(history, 'h-expired', (r) => r.state !== 'pending')).toMatchObject({ state: 'failed', error: { code: 'JOB_EXPIRED' } })

    await sim.setState('offline')
    await client.publish('printers/lobby/jobs', envelope('h-retried'))
    await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === 'h-retried' && m.json?.code === 'PRINTER_UNREACHABLE')
    const waiting = await waitForRecord(history, 'h-retried', (r) => r.retryableErrorCount > 0)
    expect(waiting).toMatchObject({ state: 'pending', retryableErrors: [{ code: 'PRINTER_UNREACHABLE' }] })
    await sim.setState('ready')
    await client.outcome('lobby', 'h-retried', 15_000)
    expect(await waitForRecord(history, 'h-retried', (r) => r.state !== 'pending')).toMatchObject({ state: 'printed', retryableErrorCount: 1, retryableErrors: [{ code: 'PRINTER_UNREACHABLE' }] })
  })

  it('records a cancel request, JOB_CANCELLED as cancelled, and NO_RELAY as failed', async () => {
    const { broker, sim, client } = await pipeline()
    const history = broker.broker.jobHistory
    // The printer is away, so the job waits in the relay; the relay's answer to the cancel is published here.
    await sim.setState('offline')
    await client.publish('printers/lobby/jobs', envelope('h-cancel'))
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'h-cancel' }))
    await waitForRecord(history, 'h-cancel', (r) => r.cancelRequested !== undefined)
    await client.publish('printers/lobby/errors', JSON.stringify({ jobId: 'h-cancel', printerId: 'lobby', code: 'JOB_CANCELLED', message: 'cancelled before it started printing', retryable: false, at: new Date().toISOString() }))
    expect(await waitForRecord(history, 'h-cancel', (r) => r.state === 'cancelled')).toMatchObject({ error: { code: 'JOB_CANCELLED' }, cancelRequested: { user: null } })

    // No relay serves `ghost`: the broker's answer.
    await client.publish('printers/ghost/jobs', envelope('h-ghost'))
    await client.publish('printers/ghost/errors', JSON.stringify({ jobId: 'h-ghost', printerId: 'ghost', code: 'NO_RELAY', message: 'no relay serves printer ghost', retryable: false, at: new Date().toISOString() }))
    expect(await waitForRecord(history, 'h-ghost', (r) => r.state !== 'pending')).toMatchObject({ state: 'failed', printerId: 'ghost', error: { code: 'NO_RELAY' } })
  })

  it('records the user who published a job, with AUTH_FILE, also when the broker refuses it', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1' }))
    const alice = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
    const ops = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'ops', password: PASSWORDS.ops }))
    await alice.publish('printers/lobby/jobs', envelope('by-alice'))
    await ops.publish('printers/bar/jobs', envelope('by-ops'))
    expect(await waitForRecord(broker.broker.jobHistory, 'by-alice', () => true)).toMatchObject({ user: 'alice', printerId: 'lobby' })
    expect(await waitForRecord(broker.broker.jobHistory, 'by-ops', () => true)).toMatchObject({ user: 'ops', printerId: 'bar' })
    expect((await broker.broker.jobHistory.get('by-alice'))?.anonymous).toBeUndefined()
    // A job the broker refuses itself (a retained job: INVALID_JOB) still names who sent it.
    await alice.publish('printers/lobby/jobs', envelope('by-alice-retained'), { retain: true })
    expect(await waitForRecord(broker.broker.jobHistory, 'by-alice-retained', (r) => r.state !== 'pending')).toMatchObject({ user: 'alice', state: 'failed', error: { code: 'INVALID_JOB' } })
    expect((await broker.broker.jobHistory.get('by-alice-retained'))?.publishedAt).not.toBeNull()
  })

  it('never holds a job up when its store fails or hangs', async () => {
    const { broker, sim, client } = await pipeline()
    const store = broker.broker.jobHistory as JobHistoryStore
    let calls = 0
    store.apply = async () => { calls += 1; throw new Error('history store failing') }
    await client.publish('printers/lobby/jobs', envelope('h-failing-store'))
    expect((await client.outcome('lobby', 'h-failing-store')).json.status).toBe('printed')
    store.apply = () => { calls += 1; return new Promise(() => {}) }
    await client.publish('printers/lobby/jobs', envelope('h-stuck-store'))
    expect((await client.outcome('lobby', 'h-stuck-store')).json.status).toBe('printed')
    expect(sim.tickets).toHaveLength(2)
    // The history was asked (the stuck job's result waits behind its publish): the jobs went through in spite of it.
    expect(calls).toBeGreaterThanOrEqual(3)
  })
})

describe('job history across a broker restart', () => {
  const stores: Array<{ name: string, env: () => Promise<Record<string, string>> }> = [
    { name: 'level', env: async () => ({ PERSISTENCE: 'level', DATA_DIR: await tempDir(cleanup) }) },
    { name: 'redis', env: async () => ({ PERSISTENCE: 'redis', REDIS_URL: cleanup.add(await startRedis()).url }) }
  ]
  it.each(stores)('survives with $name', async ({ env: makeEnv }) => {
    const env = await makeEnv()
    const first = cleanup.add(await startBroker(env))
    const sim = cleanup.add(await startPrinter())
    const client = await TestClient.connect(first.mqttUrl)
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    const relay = await startRelay(relayEnv(first.mqttUrl, { lobby: sim }, await tempDir(cleanup)))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await client.publish('printers/lobby/jobs', envelope('h-restart'))
    await client.outcome('lobby', 'h-restart')
    await waitForRecord(first.broker.jobHistory, 'h-restart', (r) => r.state === 'printed')
    await relay.stop()
    await client.stop()
    await first.stop()

    const second = cleanup.add(await startBroker(env))
    expect(await second.broker.jobHistory.get('h-restart')).toMatchObject({ state: 'printed', user: null, anonymous: true, result: { status: 'printed' } })
    expect((await second.broker.jobHistory.list({ limit: 10 })).map((r) => r.jobId)).toEqual(['h-restart'])
  })
})

describe('job history with two broker instances on one Redis', () => {
  it('joins what each saw: the publish on one, the result on the other', async () => {
    const redis = cleanup.add(await startRedis())
    const env = { PERSISTENCE: 'redis', REDIS_URL: redis.url, HEARTBEAT_INTERVAL_MS: '1000' }
    const a = cleanup.add(await startBroker(env))
    const b = cleanup.add(await startBroker(env))
    const sim = cleanup.add(await startPrinter())
    // The relay on B; the publisher on A.
    const watcher = cleanup.add(await TestClient.connect(b.mqttUrl))
    await watcher.subscribe('printers/lobby/responses', 'printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(b.mqttUrl, { lobby: sim }, await tempDir(cleanup))))
    await watcher.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    const publisher = cleanup.add(await TestClient.connect(a.mqttUrl))
    await publisher.publish('printers/lobby/jobs', envelope('h-two-brokers'))
    await watcher.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'h-two-brokers')
    const record = await waitForRecord(a.broker.jobHistory, 'h-two-brokers', (r) => r.state === 'printed' && r.publishedAt !== null)
    expect(record).toMatchObject({ anonymous: true, result: { status: 'printed' } })
    expect(await b.broker.jobHistory.get('h-two-brokers')).toEqual(record)
  })
})

describe('job history in Mosquitto mode', () => {
  it('is recorded by the web server as a client, its user unknown, and kept across its restart', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const mosquitto = cleanup.add(await startMosquitto(authFile, dir))
    const dataDir = await tempDir(cleanup)
    const config = loadWebServerConfig({ PORT: '0', LISTEN_HOST: '127.0.0.1', BROKER_WS_URL: mosquitto.wsUrl, MQTT_URL: mosquitto.mqttUrl, MQTT_USERNAME: 'ops', MQTT_PASSWORD: PASSWORDS.ops, DATA_DIR: dataDir })
    const web = new WebServer({ config, logger: silentLogger() })
    await web.start()
    const stopWeb = cleanup.add({ stop: () => web.stop() })
    await web.jobHistory.subscribed

    const sim = cleanup.add(await startPrinter())
    const alice = cleanup.add(await TestClient.connect(mosquitto.mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
    await alice.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(mosquitto.mqttUrl, { lobby: sim }, await tempDir(cleanup), { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
    await alice.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await alice.publish('printers/lobby/jobs', envelope('m-1'))
    await alice.outcome('lobby', 'm-1')
    const record = await waitForRecord(web.jobHistory.history, 'm-1', (r) => r.state === 'printed')
    expect(record).toMatchObject({ printerId: 'lobby', user: null, result: { status: 'printed' } })
    expect(record.publishedAt).not.toBeNull()
    expect(record.anonymous).toBeUndefined()

    await stopWeb.stop()
    const again = cleanup.add(new WebServer({ config, logger: silentLogger() }))
    await again.start()
    expect(await again.jobHistory.history.get('m-1')).toMatchObject({ state: 'printed', user: null })
  })
})
