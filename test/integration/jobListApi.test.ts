/**
 * `GET /api/jobs` (the job history the dashboard shows): jobs from any client (MQTT, HTTP), newest first, with
 * filters by printer, state and time and a limit; only the jobs of printers the caller may read (users and
 * tokens, on both brokers); a bad or unknown parameter is a 400 JSON error. `GET /api/me`: who the caller is.
 */
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { basicAuth, callApi, eventually, type Answer, type CallOptions } from '../../harness/httpApi.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { startVenue } from '../../harness/venue.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const call = async (target: { httpUrl: string }, method: string, route: string, options?: CallOptions): Promise<Answer> => await callApi(target.httpUrl, method, route, options)
const basic = (user: keyof typeof PASSWORDS): string => basicAuth(user, PASSWORDS[user])
const ids = (answer: Answer): string[] => (answer.body?.jobs as Array<{ jobId: string }>).map((job) => job.jobId)

describe('GET /api/jobs, anonymous broker', () => {
  it('lists jobs from every client newest first, filtered by printer, state, time and limit', async () => {
    const { broker } = await startVenue(cleanup)
    // One job from another client (MQTT, as `printwire print` or mosquitto_pub sends it), one over HTTP, and one
    // for a printer no relay serves (answered NO_RELAY: failed).
    const other = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await other.publish('printers/lobby/jobs', JSON.stringify({ id: 'from-mqtt', data: '<RC1,1>mqtt<p>' }))
    await eventually(async () => await call(broker, 'GET', '/jobs/from-mqtt'), (a) => a.body?.state === 'printed')
    const between = new Date().toISOString()
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect((await call(broker, 'POST', '/printers/lobby/jobs?wait=10', { body: '<RC1,1>http<p>', type: 'text/plain', headers: { 'idempotency-key': 'from-http' } })).status).toBe(200)
    expect((await call(broker, 'POST', '/printers/nowhere/jobs?wait=5', { body: 'x<p>', type: 'text/plain', headers: { 'idempotency-key': 'no-relay' } })).status).toBe(503)

    const all = await eventually(async () => await call(broker, 'GET', '/jobs'), (a) => a.body?.jobs?.length === 3)
    expect(all.status).toBe(200)
    expect(ids(all)).toEqual(['no-relay', 'from-http', 'from-mqtt'])
    expect(all.body.jobs[2]).toMatchObject({ jobId: 'from-mqtt', printerId: 'lobby', state: 'printed', result: { status: 'printed' } })
    expect(ids(await call(broker, 'GET', '/jobs?printer=lobby'))).toEqual(['from-http', 'from-mqtt'])
    expect(ids(await call(broker, 'GET', '/jobs?state=failed'))).toEqual(['no-relay'])
    expect(ids(await call(broker, 'GET', '/jobs?printer=lobby&state=printed&limit=1'))).toEqual(['from-http'])
    expect(ids(await call(broker, 'GET', `/jobs?since=${encodeURIComponent(between)}`))).toEqual(['no-relay', 'from-http'])
    expect(ids(await call(broker, 'GET', `/jobs?until=${encodeURIComponent(between)}`))).toEqual(['from-mqtt'])
    expect(ids(await call(broker, 'GET', '/jobs?printer=nobody'))).toEqual([])
    expect((await call(broker, 'GET', '/me')).body).toEqual({ user: null, via: 'anonymous', role: null, printers: ['*'] })
  })

  it('answers each bad or unknown parameter with a 400 JSON error naming it', async () => {
    const { broker } = await startVenue(cleanup)
    const cases: Array<[string, RegExp]> = [
      ['?printer=bad%20id', /\?printer/],
      ['?state=done', /\?state/],
      ['?since=yesterday', /\?since/],
      ['?until=2026-11-21', /\?until/],
      ['?since=2026-11-22T00:00:00Z&until=2026-11-21T00:00:00Z', /later than/],
      ['?limit=0', /\?limit/],
      ['?limit=1001', /\?limit/],
      ['?limit=ten', /\?limit/],
      ['?printer=lobby&printer=bar', /\?printer/],
      ['?outcome=printed', /unknown parameter \?outcome/]
    ]
    for (const [query, message] of cases) {
      const answer = await call(broker, 'GET', `/jobs${query}`)
      expect({ status: answer.status, code: answer.body?.code }, query).toEqual({ status: 400, code: 'INVALID_ARGUMENT' })
      expect(answer.body.message, query).toMatch(message)
      expect(answer.headers.get('content-type')).toMatch(/application\/json/)
    }
  })
})

describe('GET /api/jobs with AUTH_FILE', () => {
  for (const target of BROKER_TARGETS) {
    it(`lists only the jobs of printers the caller may read, for users and tokens (${target.name})`, async () => {
      const dir = await tempDir(cleanup)
      const authFile = path.join(dir, 'auth.json')
      await writeTestUsers(authFile)
      const started = await target.start(authFile, dir, cleanup, { AUTH_FILE: authFile })
      const printer = cleanup.add(await startPrinter())
      cleanup.add(await startRelay(relayEnv(started.mqttUrl, { lobby: printer }, await tempDir(cleanup), { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
      const web = { httpUrl: started.httpUrl }
      const printed = await eventually(async () => await call(web, 'POST', '/printers/lobby/jobs?wait=10', { body: '<RC1,1>alice<p>', type: 'text/plain', auth: basic('alice'), headers: { 'idempotency-key': 'alice-1' } }), (a) => a.status !== 503)
      expect(printed.status).toBe(200)
      // bob's job on bar, published over MQTT: no relay serves bar (the embedded broker answers NO_RELAY; on
      // Mosquitto it waits), but it is in the history all the same.
      const bob = cleanup.add(await TestClient.connect(started.mqttUrl, { username: 'bob', password: PASSWORDS.bob }))
      await bob.publish('printers/bar/jobs', JSON.stringify({ id: 'bob-1', data: 'x<p>' }))

      const admin = await eventually(async () => await call(web, 'GET', '/jobs', { auth: basic('ops') }), (a) => a.body?.jobs?.length === 2)
      expect(ids(admin).sort()).toEqual(['alice-1', 'bob-1'])
      const alice = await eventually(async () => await call(web, 'GET', '/jobs', { auth: basic('alice') }), (a) => a.body?.jobs?.length === 1)
      expect(ids(alice)).toEqual(['alice-1'])
      expect(ids(await call(web, 'GET', '/jobs', { auth: basic('bob') }))).toEqual(['bob-1'])
      // Asking for another printer's jobs by name shows none (as GET /api/jobs/<id> shows none of them).
      expect(ids(await call(web, 'GET', '/jobs?printer=lobby', { auth: basic('bob') }))).toEqual([])
      expect(ids(await call(web, 'GET', '/jobs?printer=bar&limit=5', { auth: basic('alice') }))).toEqual([])
      expect((await call(web, 'GET', '/jobs')).status).toBe(401)
      expect((await call(web, 'GET', '/jobs', { auth: basicAuth('alice', 'wrong') })).status).toBe(401)

      // A token limited to lobby, issued by the admin, sees lobby's jobs only.
      const issued = await call(web, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: 60 }), type: 'application/json', auth: basic('ops') })
      expect(issued.status).toBe(201)
      expect(ids(await call(web, 'GET', '/jobs', { auth: `Bearer ${issued.body.token as string}` }))).toEqual(['alice-1'])

      // GET /api/me: who the caller is (the dashboard offers "Forget" to admins only).
      expect((await call(web, 'GET', '/me', { auth: basic('alice') })).body).toEqual({ user: 'alice', via: 'password', role: 'client', printers: ['lobby'] })
      expect((await call(web, 'GET', '/me', { auth: basic('ops') })).body).toEqual({ user: 'ops', via: 'password', role: 'admin', printers: ['*'] })
      expect((await call(web, 'GET', '/me', { auth: `Bearer ${issued.body.token as string}` })).body).toMatchObject({ via: 'token', role: 'client', printers: ['lobby'] })
      expect((await call(web, 'GET', '/me')).status).toBe(401)
    })
  }
})
