/**
 * `GET /metrics` (README "Metrics"), parsed as Prometheus text after real jobs through a real broker, relay and
 * simulated printer: jobs published, results by outcome (printed, a final error, NO_RELAY), retryable errors, the
 * publish→result latency, printer states and queued jobs from the retained statuses, connections by kind; and who
 * may read it (with AUTH_FILE: admins only), on the embedded broker and on the web server in Mosquitto mode.
 */
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { basicAuth, callApi, eventually } from '../../harness/httpApi.ts'
import { familyNames, histogram, sampleValue, scrapeMetrics, type Scrape } from '../../harness/metrics.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { startVenue } from '../../harness/venue.ts'
import { LATENCY_BUCKETS_SECONDS } from '../../runtime/printwireMetrics.ts'

const cleanup = new Cleanup()
afterEach(async () => { await cleanup.closeAll() })

const job = (id: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ id, data: `ticket ${id}<p>`, ...extra })

async function watcher (mqttUrl: string, options: { username?: string, password?: string } = {}): Promise<TestClient> {
  const client = cleanup.add(await TestClient.connect(mqttUrl, options))
  await client.subscribe('printers/+/responses', 'printers/+/errors', 'printers/+/status')
  return client
}

function bucket (series: ReturnType<typeof histogram>, le: string): number | undefined {
  return series?.buckets.find(([bound]) => bound === le)?.[1]
}

const printedJob = (client: TestClient, id: string): Promise<unknown> =>
  client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === id && m.json?.status === 'printed', 15_000, `${id} printed`)

/** Scrapes until `done` holds (the metrics follow the messages in the background), then returns the last scrape. */
async function scrapeUntil (httpUrl: string, done: (scrape: Scrape) => boolean, auth?: string): Promise<Scrape> {
  return await eventually(() => scrapeMetrics(httpUrl, auth), (scrape) => scrape.status === 200 && done(scrape))
}

describe('GET /metrics on the embedded broker, without AUTH_FILE', () => {
  it('counts jobs, results by outcome, retryable errors and latency, and shows states and connections, after real jobs', async () => {
    const { broker, printer } = await startVenue(cleanup)
    const client = await watcher(broker.mqttUrl)
    // A job that waits for paper until it expires: PRINTER_ERROR (retryable), then JOB_EXPIRED (final).
    await printer.setState('paper-out')
    await client.publish('printers/lobby/jobs', job('late', { expiresAt: new Date(Date.now() + 1500).toISOString() }))
    await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === 'late' && m.json?.code === 'PRINTER_ERROR')
    const inFault = await scrapeUntil(broker.httpUrl, (s) => sampleValue(s, 'printwire_printer_state', { printer: 'lobby', state: 'error' }) === 1)
    expect(sampleValue(inFault, 'printwire_printer_state', { printer: 'lobby', state: 'online' })).toBe(0)
    await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === 'late' && m.json?.code === 'JOB_EXPIRED', 15_000)
    await printer.setState('ready')
    // Printed.
    await client.publish('printers/lobby/jobs', job('fine'))
    expect((await client.outcome('lobby', 'fine')).json.status).toBe('printed')
    // No relay serves `ghost`: the broker answers NO_RELAY.
    await client.publish('printers/ghost/jobs', job('lost'))
    expect((await client.outcome('ghost', 'lost')).json.code).toBe('NO_RELAY')

    const scrape = await scrapeUntil(broker.httpUrl, (s) => sampleValue(s, 'printwire_job_results_total', { printer: 'ghost', outcome: 'NO_RELAY' }) === 1 &&
      sampleValue(s, 'printwire_printer_state', { printer: 'lobby', state: 'online' }) === 1)
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(familyNames(scrape).every((name) => name.startsWith('printwire_'))).toBe(true)
    expect(sampleValue(scrape, 'printwire_jobs_published_total', { printer: 'lobby' })).toBe(2)
    expect(sampleValue(scrape, 'printwire_jobs_published_total', { printer: 'ghost' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_job_results_total', { printer: 'lobby', outcome: 'printed' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_job_results_total', { printer: 'lobby', outcome: 'JOB_EXPIRED' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_job_retryable_errors_total', { printer: 'lobby', code: 'PRINTER_ERROR' })).toBeGreaterThanOrEqual(1)
    // Retryable errors are not results.
    expect(sampleValue(scrape, 'printwire_job_results_total', { printer: 'lobby', outcome: 'PRINTER_ERROR' })).toBeUndefined()
    // Latency, publish to result: one each, in the histogram's buckets.
    const printed = histogram(scrape, 'printwire_job_latency_seconds', { printer: 'lobby', result: 'ok' })
    expect(printed?.count).toBe(1)
    expect(printed?.buckets.map(([le]) => le)).toEqual([...LATENCY_BUCKETS_SECONDS.map(String), '+Inf'])
    expect(bucket(printed, '60')).toBe(1)
    expect(printed?.sum).toBeGreaterThan(0)
    const expired = histogram(scrape, 'printwire_job_latency_seconds', { printer: 'lobby', result: 'error' })
    expect(expired?.count).toBe(1)
    // It waited for its expiry (1.5 s after it was published).
    expect(expired?.sum).toBeGreaterThan(1)
    expect(bucket(expired, '1')).toBe(0)
    expect(bucket(expired, '+Inf')).toBe(1)
    expect(histogram(scrape, 'printwire_job_latency_seconds', { printer: 'ghost', result: 'error' })?.count).toBe(1)
    // States from the retained statuses: each state of a printer, 1 for the current one.
    for (const state of ['offline', 'unreachable', 'error']) expect(sampleValue(scrape, 'printwire_printer_state', { printer: 'lobby', state })).toBe(0)
    expect(sampleValue(scrape, 'printwire_printer_state', { printer: 'ghost', state: 'online' })).toBeUndefined()
    // Connections by client id without AUTH_FILE: the relay's one (`printwire-relay:<relay>:lobby`) and this watcher.
    expect(sampleValue(scrape, 'printwire_connections', { kind: 'relay' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_connections', { kind: 'client' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_connections', { kind: 'token' })).toBe(0)
    // Nothing waits, in the relay (once its status says so: a change of `queued` alone is coalesced) or at the broker.
    const idle = await scrapeUntil(broker.httpUrl, (s) => sampleValue(s, 'printwire_printer_queued_jobs', { printer: 'lobby' }) === 0)
    expect(sampleValue(idle, 'printwire_broker_queued_jobs', { printer: 'lobby' })).toBe(0)
  })

  it('shows the jobs waiting in the relay (status `queued`) rising while the printer is away, and back to 0 once printed', async () => {
    const { broker, printer } = await startVenue(cleanup)
    const client = await watcher(broker.mqttUrl)
    await printer.setState('offline')
    for (const id of ['q1', 'q2', 'q3']) await client.publish('printers/lobby/jobs', job(id))
    const waiting = await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.queued === 3, 10_000, 'queued 3')
    // The rest of the status is as before, and it is retained: a client arriving now reads it.
    expect(waiting.json).toMatchObject({ printerId: 'lobby', relayId: 'test-relay' })
    expect(['online', 'unreachable']).toContain(waiting.json.state)
    expect(Number.isNaN(Date.parse(waiting.json.at as string))).toBe(false)
    const late = await watcher(broker.mqttUrl)
    const retained = await late.waitFor((m) => m.topic === 'printers/lobby/status' && m.retain)
    expect(retained.json.queued).toBe(3)
    await scrapeUntil(broker.httpUrl, (s) => sampleValue(s, 'printwire_printer_queued_jobs', { printer: 'lobby' }) === 3)
    await printer.setState('ready')
    for (const id of ['q1', 'q2', 'q3']) await printedJob(client, id)
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.queued === 0 && m.json?.state === 'online', 10_000, 'queued 0')
    await scrapeUntil(broker.httpUrl, (s) => sampleValue(s, 'printwire_printer_queued_jobs', { printer: 'lobby' }) === 0)
  })
})

describe('GET /metrics after a broker restart', () => {
  it('shows the printers\' states and queues retained before the restart, before any new status (level persistence)', async () => {
    const dataDir = await tempDir(cleanup)
    const env = { PERSISTENCE: 'level', DATA_DIR: dataDir }
    const first = await startBroker(env)
    try {
      const relay = await TestClient.connect(first.mqttUrl)
      await relay.publish('printers/lobby/status', JSON.stringify({ printerId: 'lobby', state: 'unreachable', detail: 'x', relayId: 'r1', queued: 5, at: new Date().toISOString() }), { retain: true })
      await relay.publish('printers/bar/status', JSON.stringify({ printerId: 'bar', state: 'online', relayId: 'r1', at: new Date().toISOString() }), { retain: true })
      await relay.stop()
    } finally {
      await first.stop()
    }
    const second = cleanup.add(await startBroker(env))
    const scrape = await scrapeMetrics(second.httpUrl)
    expect(sampleValue(scrape, 'printwire_printer_state', { printer: 'lobby', state: 'unreachable' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_printer_queued_jobs', { printer: 'lobby' })).toBe(5)
    expect(sampleValue(scrape, 'printwire_printer_state', { printer: 'bar', state: 'online' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_printer_queued_jobs', { printer: 'bar' })).toBeUndefined()
    // Nothing was published through this process yet.
    expect(sampleValue(scrape, 'printwire_jobs_published_total', { printer: 'lobby' })).toBeUndefined()
  })
})

for (const target of BROKER_TARGETS) {
  describe(`GET /metrics with AUTH_FILE (${target.name})`, () => {
    it('asks for an admin (401 anonymous, 403 a client or a token, 200 an admin), counts real jobs, and throttles wrong passwords', async () => {
      const dir = await tempDir(cleanup)
      const authFile = path.join(dir, 'users.json')
      await writeTestUsers(authFile)
      // (AUTH_FILE for the web server too, in Mosquitto mode: it checks the HTTP callers itself.)
      const { mqttUrl, httpUrl } = await target.start(authFile, dir, cleanup, { AUTH_FILE: authFile, LOGIN_FAILURES_PER_USER_ADDRESS: '3', LOGIN_FAILURES_PER_ADDRESS: '20' })
      const admin = basicAuth('ops', PASSWORDS.ops)

      const anonymous = await scrapeMetrics(httpUrl)
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/)
      expect(anonymous.text).not.toContain('printwire_')
      const client = await scrapeMetrics(httpUrl, basicAuth('alice', PASSWORDS.alice))
      expect(client.status).toBe(403)
      expect(client.text).not.toContain('printwire_')
      const issued = await callApi(httpUrl, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: 60 }), type: 'application/json', auth: admin })
      expect(issued.status).toBe(201)
      for (const auth of [`Bearer ${issued.body.token as string}`, basicAuth('ops', issued.body.token as string)]) {
        const token = await scrapeMetrics(httpUrl, auth)
        expect(token.status, auth.slice(0, 6)).toBe(403)
        expect(token.text).not.toContain('printwire_')
      }

      // Real jobs: the relay logs in as relay-lobby, alice prints.
      const printer = cleanup.add(await startPrinter())
      const ops = await watcher(mqttUrl, { username: 'ops', password: PASSWORDS.ops })
      cleanup.add(await startRelay(relayEnv(mqttUrl, { lobby: printer }, await tempDir(cleanup), { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
      await ops.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
      const alice = cleanup.add(await TestClient.connect(mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
      await alice.publish('printers/lobby/jobs', job('ok'))
      expect((await ops.outcome('lobby', 'ok')).json.status).toBe('printed')
      await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'bad', data: 'not base64!', encoding: 'base64' }))
      expect((await ops.outcome('lobby', 'bad')).json.code).toBe('INVALID_JOB')

      const scrape = await scrapeUntil(httpUrl, (s) => sampleValue(s, 'printwire_job_results_total', { printer: 'lobby', outcome: 'INVALID_JOB' }) === 1, admin)
      expect(sampleValue(scrape, 'printwire_jobs_published_total', { printer: 'lobby' })).toBe(2)
      expect(sampleValue(scrape, 'printwire_job_results_total', { printer: 'lobby', outcome: 'printed' })).toBe(1)
      expect(histogram(scrape, 'printwire_job_latency_seconds', { printer: 'lobby', result: 'ok' })?.count).toBe(1)
      expect(sampleValue(scrape, 'printwire_printer_state', { printer: 'lobby', state: 'online' })).toBe(1)
      expect(sampleValue(scrape, 'printwire_printer_queued_jobs', { printer: 'lobby' })).toBe(0)
      if (target.name === 'Mosquitto') {
        // The web server does not see Mosquitto's connections: no such metric rather than a wrong one.
        expect(familyNames(scrape)).not.toContain('printwire_connections')
      } else {
        // By who logged in: the relay user, alice (a client), ops (an admin); a token's connection is a token.
        const tokenClient = cleanup.add(await TestClient.connect(mqttUrl, { username: 'page', password: issued.body.token as string }))
        expect(tokenClient.client.connected).toBe(true)
        const connections = await scrapeUntil(httpUrl, (s) => sampleValue(s, 'printwire_connections', { kind: 'token' }) === 1, admin)
        expect(sampleValue(connections, 'printwire_connections', { kind: 'relay' })).toBe(1)
        expect(sampleValue(connections, 'printwire_connections', { kind: 'client' })).toBe(1)
        expect(sampleValue(connections, 'printwire_connections', { kind: 'admin' })).toBe(1)
      }

      // Wrong passwords count against the address, as for MQTT and the HTTP API: then even the right one waits.
      for (let i = 0; i < 3; i++) expect((await scrapeMetrics(httpUrl, basicAuth('ops', `guess-${i}`))).status).toBe(401)
      const blocked = await scrapeMetrics(httpUrl, admin)
      expect(blocked.status).toBe(429)
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(blocked.text).not.toContain('printwire_')
    })
  })
}
