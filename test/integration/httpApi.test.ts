/**
 * The HTTP API (SPEC "HTTP API") on the embedded broker, against a real relay and simulated printer: jobs as
 * JSON envelopes and raw bytes, `?wait`, `Idempotency-Key`, a job's state from the history, cancel, tokens, the
 * same users and grants as MQTT, and malformed requests answered with a JSON error while nothing prints.
 */
import { Validator } from '@seriousme/openapi-schema-validator'
import fc from 'fast-check'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { basicAuth, callApi, eventually, type Answer, type CallOptions } from '../../harness/httpApi.ts'
import { Cleanup, relayEnv, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { startVenue, type Venue } from '../../harness/venue.ts'
import { TestClient } from '../../harness/mqttClient.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const call = async (target: { httpUrl: string }, method: string, route: string, options?: CallOptions): Promise<Answer> => await callApi(target.httpUrl, method, route, options)
const basic = (user: keyof typeof PASSWORDS): string => basicAuth(user, PASSWORDS[user])
const venue = async (env: Record<string, string> = {}): Promise<Venue> => await startVenue(cleanup, env)

async function securedVenue (): Promise<Venue> {
  const authFile = path.join(await tempDir(cleanup), 'auth.json')
  await writeTestUsers(authFile)
  return await venue({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1' })
}

describe('HTTP API, anonymous broker', () => {
  it('prints raw text with ?wait (200 and the result), and a JSON envelope at once (202), whose state the history then gives', async () => {
    const { broker, printer } = await venue()
    const waited = await call(broker, 'POST', '/printers/lobby/jobs?wait=10', { body: '<RC1,1>api<p>', type: 'text/plain', headers: { 'idempotency-key': 'api-1' } })
    expect(waited.status).toBe(200)
    expect(waited.body).toMatchObject({ jobId: 'api-1', printerId: 'lobby', status: 'printed' })
    const queued = await call(broker, 'POST', '/printers/lobby/jobs', { body: JSON.stringify({ id: 'api-2', data: '<RC1,1>two<p>' }), type: 'application/json' })
    expect(queued).toMatchObject({ status: 202, body: { jobId: 'api-2' } })
    const state = await eventually(async () => await call(broker, 'GET', '/jobs/api-2'), (a) => a.body?.state === 'printed')
    expect(state.body).toMatchObject({ jobId: 'api-2', printerId: 'lobby', state: 'printed' })
    expect(printer.tickets.map((t) => t.bytes.toString())).toEqual(['<RC1,1>api<p>', '<RC1,1>two<p>'])
    // The same Idempotency-Key again never prints twice.
    expect((await call(broker, 'POST', '/printers/lobby/jobs?wait=10', { body: '<RC1,1>api<p>', type: 'text/plain', headers: { 'idempotency-key': 'api-1' } })).status).toBe(200)
    expect(printer.tickets).toHaveLength(2)
  })

  it('lists the printers with their status, kept current, and serves a valid OpenAPI 3.1 document', async () => {
    const { broker } = await venue()
    const printers = await eventually(async () => await call(broker, 'GET', '/printers'), (a) => Array.isArray(a.body) && a.body.length > 0)
    expect(printers.body).toEqual([expect.objectContaining({ printerId: 'lobby', state: 'online' })])
    // Later requests on the same connection answer from the live statuses: a change shows at once.
    const publisher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await publisher.client.publishAsync('printers/lobby/status', JSON.stringify({ printerId: 'lobby', state: 'offline', relayId: 'test-relay', at: new Date().toISOString() }), { qos: 1, retain: true })
    const changed = await eventually(async () => await call(broker, 'GET', '/printers'), (a) => a.body?.[0]?.state !== 'online')
    expect(changed.body).toEqual([expect.objectContaining({ printerId: 'lobby', state: 'offline' })])
    const doc = await call(broker, 'GET', '/openapi.json')
    expect((await new Validator().validate(doc.body)).valid).toBe(true)
  })

  it('serves every route its OpenAPI document describes, and no other', async () => {
    const { broker } = await venue()
    const doc = (await call(broker, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> }
    const noSuchRoute = (answer: Answer): boolean => answer.status === 404 && /no such route/.test(String(answer.body?.message))
    for (const [route, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const concrete = route.replace('{printerId}', 'lobby').replace('{jobId}', 'no-such-job')
        const answer = await call(broker, method.toUpperCase(), concrete, { body: method === 'post' ? '{}' : undefined, type: 'application/json' })
        expect(noSuchRoute(answer), `${method} ${route}`).toBe(false)
      }
    }
    for (const [method, route] of [['PUT', '/printers/lobby/jobs'], ['GET', '/tokens'], ['POST', '/jobs/x'], ['GET', '/printers/lobby']]) {
      expect(noSuchRoute(await call(broker, method as string, route as string)), `${method} ${route}`).toBe(true)
    }
  })

  it('answers NO_RELAY (503) for a printer no relay serves, with ?wait', async () => {
    const { broker } = await venue()
    const answer = await call(broker, 'POST', '/printers/nobody/jobs?wait=5', { body: 'x<p>', type: 'text/plain' })
    expect(answer).toMatchObject({ status: 503, body: { code: 'NO_RELAY' } })
  })

  it('answers every malformed request with a JSON error and its code, and prints nothing', async () => {
    const { broker, printer } = await venue()
    const cases: Array<[Parameters<typeof call>[3] & { method?: string, route?: string }, number, string]> = [
      [{ body: '{"data":', type: 'application/json' }, 422, 'INVALID_JOB'],
      [{ body: '{"data":"x","copies":0}', type: 'application/json' }, 422, 'INVALID_JOB'],
      [{ body: '<p>', type: 'application/xml' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ body: 'x'.repeat(2_000_000), type: 'text/plain' }, 422, 'JOB_TOO_LARGE'],
      [{ body: 'x<p>', type: 'text/plain', route: '/printers/bad%20id/jobs' }, 400, 'INVALID_ARGUMENT'],
      [{ body: 'x<p>', type: 'text/plain', route: '/printers/lobby/jobs?wait=0' }, 400, 'INVALID_ARGUMENT'],
      [{ body: 'x<p>', type: 'text/plain', headers: { 'idempotency-key': 'bad key' } }, 400, 'INVALID_ARGUMENT'],
      [{ method: 'GET', route: '/jobs/never-seen' }, 404, 'NOT_FOUND'],
      [{ method: 'GET', route: '/nothing-here' }, 404, 'NOT_FOUND']
    ]
    for (const [options, status, code] of cases) {
      const answer = await call(broker, options.method ?? 'POST', options.route ?? '/printers/lobby/jobs', options)
      expect({ status: answer.status, code: answer.body?.code }, JSON.stringify(options).slice(0, 80)).toEqual({ status, code })
      expect(typeof answer.body.message).toBe('string')
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(printer.tickets).toEqual([])
  })

  it('never answers a fuzzed request with a server error or anything but JSON', async () => {
    const { broker, printer } = await venue()
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'image/png', 'application/json; charset=utf-8', ''),
      fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 2 })),
      fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
      fc.constantFrom('/printers/nobody/jobs', '/printers/nobody/jobs?wait=1', '/printers/%00/jobs', '/tokens', '/jobs/x'),
      async (type, body, key, route) => {
        const headers: Record<string, string> = key === undefined ? {} : { 'idempotency-key': key.replace(/[^\x20-\x7e]/g, '') }
        const answer = await call(broker, route === '/jobs/x' ? 'DELETE' : 'POST', route, { body, type, headers })
        // 503 is NO_RELAY (no relay serves `nobody`); never a 500, never a page that is not JSON.
        expect(answer.status === 500 || answer.status > 504, `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`).toBe(false)
        expect(answer.status === 202 || typeof answer.body?.code === 'string').toBe(true)
      }), { numRuns: 60 })
    expect(printer.tickets).toEqual([])
  })
})

describe('HTTP API with AUTH_FILE', () => {
  it('asks for credentials, and grants what MQTT grants: alice prints on lobby, not on bar', async () => {
    const { broker, printer } = await securedVenue()
    const none = await call(broker, 'POST', '/printers/lobby/jobs', { body: 'x<p>', type: 'text/plain' })
    expect(none).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } })
    expect(none.headers.get('www-authenticate')).toContain('Basic')
    expect((await call(broker, 'GET', '/printers', { auth: `Basic ${Buffer.from('alice:wrong').toString('base64')}` })).status).toBe(401)
    expect((await call(broker, 'POST', '/printers/bar/jobs', { body: 'x<p>', type: 'text/plain', auth: basic('alice') })).status).toBe(403)
    const printed = await call(broker, 'POST', '/printers/lobby/jobs?wait=10', { body: '<RC1,1>alice<p>', type: 'text/plain', auth: basic('alice'), headers: { 'idempotency-key': 'alice-1' } })
    expect(printed).toMatchObject({ status: 200, body: { jobId: 'alice-1', status: 'printed' } })
    // bob (a client of bar) does not even learn that alice's job exists.
    expect((await call(broker, 'GET', '/jobs/alice-1', { auth: basic('bob') })).status).toBe(404)
    const state = await eventually(async () => await call(broker, 'GET', '/jobs/alice-1', { auth: basic('alice') }), (a) => a.body?.state === 'printed')
    expect(state.body).toMatchObject({ state: 'printed', user: 'alice' })
    expect(printer.tickets).toHaveLength(1)
  })

  it('issues a browser token for a user\'s printers, which prints there as Bearer and nowhere else, and cannot ask for tokens', async () => {
    const { broker, printer } = await securedVenue()
    expect((await call(broker, 'POST', '/tokens', { body: JSON.stringify({ printers: ['bar'], ttlSeconds: 60 }), type: 'application/json', auth: basic('alice') })).status).toBe(403)
    expect((await call(broker, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: 100_000 }), type: 'application/json', auth: basic('alice') })).status).toBe(400)
    const issued = await call(broker, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: 60 }), type: 'application/json', auth: basic('alice') })
    expect(issued.status).toBe(201)
    const bearer = `Bearer ${issued.body.token as string}`
    const printed = await call(broker, 'POST', '/printers/lobby/jobs?wait=10', { body: '<RC1,1>token<p>', type: 'text/plain', auth: bearer })
    expect(printed).toMatchObject({ status: 200, body: { status: 'printed' } })
    expect((await call(broker, 'POST', '/printers/bar/jobs', { body: 'x<p>', type: 'text/plain', auth: bearer })).status).toBe(403)
    expect((await call(broker, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: 60 }), type: 'application/json', auth: bearer })).status).toBe(403)
    expect((await call(broker, 'GET', '/printers', { auth: `${bearer}x` })).status).toBe(401)
    expect(printer.tickets).toHaveLength(1)
  })

  it('cancels a job that waits (200, cancelled, never printed), and refuses to cancel one that printed (409)', async () => {
    const { broker, printer } = await securedVenue()
    // Offline: the relay cannot even connect, so the job never starts (with paper-out it may send the bytes first).
    await printer.setState('offline')
    const queued = await call(broker, 'POST', '/printers/lobby/jobs', { body: '<RC1,1>never<p>', type: 'text/plain', auth: basic('alice'), headers: { 'idempotency-key': 'wait-1' } })
    expect(queued.status).toBe(202)
    await eventually(async () => await call(broker, 'GET', '/jobs/wait-1', { auth: basic('alice') }), (a) => a.status === 200)
    const cancelled = await call(broker, 'DELETE', '/jobs/wait-1', { auth: basic('alice') })
    expect(cancelled).toMatchObject({ status: 200, body: { jobId: 'wait-1', state: 'cancelled' } })
    await printer.setState('ready')
    const after = await call(broker, 'POST', '/printers/lobby/jobs?wait=10', { body: '<RC1,1>after<p>', type: 'text/plain', auth: basic('alice'), headers: { 'idempotency-key': 'after-1' } })
    expect(after.status).toBe(200)
    expect((await call(broker, 'DELETE', '/jobs/after-1', { auth: basic('alice') })).status).toBe(409)
    expect(printer.tickets.map((t) => t.bytes.toString())).toEqual(['<RC1,1>after<p>'])
  })
})

describe('HTTP API in Mosquitto mode (npm run web)', () => {
  it('logs its callers in to Mosquitto as themselves: alice prints on lobby, bob is refused lobby and told NO_RELAY for bar', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const mosquitto = BROKER_TARGETS.find((target) => target.name === 'Mosquitto')
    if (mosquitto === undefined) throw new Error('no Mosquitto target in harness/accessTargets.ts')
    const started = await mosquitto.start(authFile, dir, cleanup, { AUTH_FILE: authFile })
    const printer = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(started.mqttUrl, { lobby: printer }, await tempDir(cleanup), { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
    const web = { httpUrl: started.httpUrl }
    const printed = await eventually(async () => await call(web, 'POST', '/printers/lobby/jobs?wait=10', { body: '<RC1,1>mosquitto<p>', type: 'text/plain', auth: basic('alice'), headers: { 'idempotency-key': 'mq-1' } }), (a) => a.status !== 503)
    expect(printed).toMatchObject({ status: 200, body: { jobId: 'mq-1', status: 'printed' } })
    expect((await call(web, 'POST', '/printers/lobby/jobs', { body: 'x<p>', type: 'text/plain', auth: basic('bob') })).status).toBe(403)
    expect(await call(web, 'POST', '/printers/bar/jobs?wait=5', { body: 'x<p>', type: 'text/plain', auth: basic('bob') })).toMatchObject({ status: 503, body: { code: 'NO_RELAY' } })
    expect((await call(web, 'GET', '/printers', { auth: `Basic ${Buffer.from('alice:wrong').toString('base64')}` })).status).toBe(401)
    const state = await eventually(async () => await call(web, 'GET', '/jobs/mq-1', { auth: basic('alice') }), (a) => a.body?.state === 'printed')
    expect(state.body).toMatchObject({ jobId: 'mq-1', state: 'printed' })
    expect(printer.tickets).toHaveLength(1)
  })
})
