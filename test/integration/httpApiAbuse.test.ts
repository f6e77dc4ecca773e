/**
 * The HTTP API under abuse (review of issue 12), with a real broker, relay and simulated printer: what a caller
 * with few rights, or none, must not get from it: another printer's job, more connections to the broker than
 * callers, a body buffered before its sender is known, token guesses outside the log-in throttle.
 */
import http from 'node:http'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { basicAuth, callApi, eventually, type Answer, type CallOptions } from '../../harness/httpApi.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'
import { startVenue, type Venue } from '../../harness/venue.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { issueToken } from '../../access/tokens.ts'
import { decodeSecret } from '../../runtime/secretText.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const call = async (target: { httpUrl: string }, method: string, route: string, options?: CallOptions): Promise<Answer> => await callApi(target.httpUrl, method, route, options)
const as = (user: keyof typeof PASSWORDS): string => basicAuth(user, PASSWORDS[user])

async function securedVenue (env: Record<string, string> = {}): Promise<Venue> {
  const authFile = path.join(await tempDir(cleanup), 'auth.json')
  await writeTestUsers(authFile)
  return await startVenue(cleanup, { AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1', ...env })
}

function connectedClients (broker: StartedBroker): number {
  return broker.broker.broker.connectedClients
}

describe('HTTP API abuse', () => {
  it('never shows a job of a printer the caller may not read, even when the caller used its id first on its own printer', async () => {
    const { broker, printer } = await securedVenue()
    // bob (a client of bar only) guesses alice's next order id and uses it first, on bar (no relay: NO_RELAY).
    expect((await call(broker, 'POST', '/printers/bar/jobs', { body: 'x<p>', type: 'text/plain', auth: as('bob'), headers: { 'idempotency-key': 'order-77-1' } })).status).toBe(202)
    await eventually(async () => await call(broker, 'GET', '/jobs/order-77-1', { auth: as('bob') }), (a) => a.body?.state === 'failed')
    // alice prints order-77-1 on lobby.
    const printed = await call(broker, 'POST', '/printers/lobby/jobs?wait=10', { body: '<RC1,1>seat 12<p>', type: 'text/plain', auth: as('alice'), headers: { 'idempotency-key': 'order-77-1' } })
    expect(printed).toMatchObject({ status: 200, body: { printerId: 'lobby', status: 'printed' } })
    expect(printer.tickets).toHaveLength(1)
    // bob must never read alice's lobby result or learn her name through it.
    const seenByBob = await call(broker, 'GET', '/jobs/order-77-1', { auth: as('bob') })
    expect(JSON.stringify(seenByBob.body)).not.toContain('lobby')
    expect(JSON.stringify(seenByBob.body)).not.toContain('alice')
  })

  it('opens one broker connection per token, whatever Basic user name comes with it, and keeps a bounded number of idle ones', async () => {
    const { broker } = await securedVenue()
    const issued = await call(broker, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: 600 }), type: 'application/json', auth: as('alice') })
    expect(issued.status).toBe(201)
    const token = issued.body.token as string
    expect((await call(broker, 'GET', '/printers', { auth: basicAuth('page-0', token) })).status).toBe(200)
    const before = connectedClients(broker)
    // One token, 20 made-up user names: the same caller, so the same one connection.
    for (let i = 1; i <= 20; i++) expect((await call(broker, 'GET', '/printers', { auth: basicAuth(`page-${i}`, token) })).status).toBe(200)
    expect(connectedClients(broker)).toBe(before)
    // alice mints many distinct tokens, each used once: the idle connections kept stay bounded.
    const { MAX_IDLE_CONNECTIONS } = await import('../../web/api/callerConnections.ts')
    const tokens: string[] = []
    for (let ttl = 100; tokens.length < MAX_IDLE_CONNECTIONS + 10; ttl++) {
      const minted = await call(broker, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: ttl }), type: 'application/json', auth: as('alice') })
      tokens.push(minted.body.token as string)
    }
    for (let i = 0; i < tokens.length; i += 10) {
      const answers = await Promise.all(tokens.slice(i, i + 10).map(async (t) => await call(broker, 'GET', '/printers', { auth: `Bearer ${t}` })))
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200))
    }
    // The relay's connection, the test's, and at most MAX_IDLE_CONNECTIONS of the API's (closing ones may linger a moment).
    const settled = await eventually(async () => connectedClients(broker), (n) => n <= before + MAX_IDLE_CONNECTIONS)
    expect(settled).toBeLessThanOrEqual(before + MAX_IDLE_CONNECTIONS)
  })

  it('refuses a request without valid credentials before reading its body', async () => {
    const { broker, printer } = await securedVenue()
    const { port } = new URL(broker.httpUrl)
    // Announces a body of nearly 1 MB, sends 100 bytes of it, then waits for the answer with the rest unsent.
    const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port: Number(port), method: 'POST', path: '/api/printers/lobby/jobs', headers: { 'content-type': 'text/plain', 'content-length': '1000000' } }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => { body += chunk })
        response.on('end', () => { resolve({ status: response.statusCode ?? 0, body }) })
      })
      request.on('error', reject)
      request.write('x'.repeat(100))
      const timer = setTimeout(() => { request.destroy(); reject(new Error('no answer while the body was incomplete: the server reads bodies of callers it does not know')) }, 5000)
      request.on('response', () => clearTimeout(timer))
    })
    expect(answer.status).toBe(401)
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'UNAUTHORIZED' })
    expect(printer.tickets).toEqual([])
  })

  it('counts forged Bearer tokens against the address, as it does over MQTT', async () => {
    const { broker } = await securedVenue({ LOGIN_FAILURES_PER_ADDRESS: '3', LOGIN_FAILURES_PER_USER_ADDRESS: '2' })
    const issued = await call(broker, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: 600 }), type: 'application/json', auth: as('alice') })
    const token = issued.body.token as string
    const [version, body] = token.split('.')
    // Bearer tokens carry no user name: they are counted as the one name `(token)`, like MQTT's CONNECTs without one.
    for (let i = 0; i < 2; i++) {
      const forged = `${version as string}.${body as string}.${Buffer.from(`forged-signature-${i}-padding-padding`).toString('base64url')}`
      expect((await call(broker, 'GET', '/printers', { auth: `Bearer ${forged}` })).status).toBe(401)
    }
    const blocked = await call(broker, 'GET', '/printers', { auth: `Bearer ${token}` })
    expect(blocked).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } })
    expect(String(blocked.body.message)).toMatch(/too many/)
    // A third forged one, with a user name: the address has used its failures, for every user.
    const forged = `${version as string}.${body as string}.${Buffer.from('forged-signature-x-padding-padding').toString('base64url')}`
    expect((await call(broker, 'GET', '/printers', { auth: basicAuth('guess', forged) })).status).toBe(401)
    expect(String((await call(broker, 'GET', '/printers', { auth: as('alice') })).body.message)).toMatch(/too many/)
  })

  it('answers requests sent again with the same Idempotency-Key while the first still waits, and prints once', async () => {
    const { broker, printer } = await securedVenue()
    await printer.setState('paper-out')
    const send = async (wait: string): Promise<Answer> => await call(broker, 'POST', `/printers/lobby/jobs${wait}`, { body: '<RC1,1>once<p>', type: 'text/plain', auth: as('alice'), headers: { 'idempotency-key': 'retry-1' } })
    const first = send('?wait=30')
    await eventually(async () => await call(broker, 'GET', '/jobs/retry-1', { auth: as('alice') }), (a) => a.status === 200)
    // The caller's HTTP client gave up on the first request and sends it again, twice (with and without ?wait).
    const again = send('?wait=30')
    const queued = await send('')
    expect(queued).toMatchObject({ status: 202, body: { jobId: 'retry-1' } })
    await printer.setState('ready')
    const answers = await Promise.all([first, again])
    expect(answers.map((a) => [a.status, a.body?.status])).toEqual([[200, 'printed'], [200, 'printed']])
    expect(printer.tickets).toHaveLength(1)
  })

  it('refuses requests from pages of other origins (a site open on the venue PC must not print through the API)', async () => {
    // The anonymous broker (loopback only), as on a venue PC: any page in its browser can send a simple POST.
    const broker = cleanup.add(await startBroker())
    const printer = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: printer }, await tempDir(cleanup))))
    const post = async (headers: Record<string, string>): Promise<Answer> => await call(broker, 'POST', '/printers/lobby/jobs', { body: '<RC1,1>free ticket<p>', type: 'text/plain', headers })
    const other = await post({ origin: 'https://evil.example' })
    expect(other).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    expect((await post({ origin: 'null' })).status).toBe(403)
    // DNS rebinding: a site whose name resolves to 127.0.0.1 is same-origin to the browser, and could read answers.
    const port = new URL(broker.httpUrl).port
    const rebound = await call(broker, 'GET', '/printers', { headers: { origin: `http://evil.example:${port}`, host: `evil.example:${port}` } })
    expect(rebound.status).toBe(403)
    // The page's own origin, and clients that send none (curl, servers), are served.
    expect((await post({ origin: broker.httpUrl })).status).toBe(202)
    expect((await post({})).status).toBe(202)
    await eventually(async () => printer.tickets.length, (n) => n >= 2)
    expect(printer.tickets).toHaveLength(2)
  })

  it('refuses over HTTP a token that expired, one of another secret, one that grants more than its issuer has, and a token asking for a token', async () => {
    const secretText = 'qgjBkYF3C3TnVhw0H5b1mOZ4xP2sN8aLdR6eW9cUyKo'
    const secret = decodeSecret(secretText) as Buffer
    const other = decodeSecret('Zq1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKkLlMmNn') as Buffer
    const { broker, printer } = await securedVenue({ TOKEN_SECRET: secretText })
    const alice = { name: 'alice', role: 'client' as const, printers: ['lobby'] }
    const mint = (options: { secret?: Buffer, now?: number, printers?: string[], issuer?: typeof alice }): string =>
      issueToken(options.secret ?? secret, options.issuer ?? alice, { printers: options.printers ?? ['lobby'], ttlSeconds: 60 }, options.now ?? Date.now()).token
    const post = async (auth: string): Promise<Answer> => await call(broker, 'POST', '/printers/lobby/jobs', { body: '<RC1,1>x<p>', type: 'text/plain', auth })
    expect((await call(broker, 'POST', '/printers/lobby/jobs?wait=10', { body: '<RC1,1>x<p>', type: 'text/plain', auth: `Bearer ${mint({})}` })).status).toBe(200)
    expect((await post(`Bearer ${mint({ now: Date.now() - 3_600_000 })}`)).status).toBe(401)
    expect((await post(`Bearer ${mint({ secret: other })}`)).status).toBe(401)
    // Signed with the right secret, but claiming bar for alice (who only has lobby): her rights are checked at each use.
    expect((await call(broker, 'POST', '/printers/bar/jobs', { body: 'x<p>', type: 'text/plain', auth: `Bearer ${mint({ printers: ['bar'], issuer: { ...alice, printers: ['bar'] } })}` })).status).toBe(401)
    // A token given as a Basic password is a token: it may not ask for another, with any user name.
    const asBasic = await call(broker, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: 86_400 }), type: 'application/json', auth: basicAuth('alice', mint({})) })
    expect(asBasic).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    expect(JSON.stringify(asBasic.body)).not.toContain('token:')
    await eventually(async () => printer.tickets.length, (n) => n >= 1)
    expect(printer.tickets).toHaveLength(1)
  })

  // The API once logged its callers in to its own broker over TCP from 127.0.0.1, so the MQTT log-in throttle
  // counted them under that one address: wrong MQTT passwords from any other local process (or a reverse proxy on
  // the same host in front of /mqtt) blocked every HTTP caller. Its connections are now in process.
  it('lets a caller in over HTTP when other clients failed MQTT log-ins from the address the API connects from', async () => {
    const { broker } = await securedVenue({ LOGIN_FAILURES_PER_ADDRESS: '3', LOGIN_FAILURES_PER_USER_ADDRESS: '2' })
    for (let i = 0; i < 3; i++) {
      const refused = await TestClient.connect(broker.mqttUrl, { username: `guess-${i}`, password: 'wrong', reconnectPeriod: 0 }).then((c) => { cleanup.add(c); return 0 }, (e: unknown) => (e as { code?: number }).code)
      expect(refused).toBe(4)
    }
    // alice asks over HTTP from another address (127.0.0.2), which has no failure.
    const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port: broker.broker.httpPort, localAddress: '127.0.0.2', path: '/api/printers', headers: { authorization: as('alice') } }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => { body += chunk })
        response.on('end', () => { resolve({ status: response.statusCode ?? 0, body }) })
      })
      request.on('error', reject)
      request.end()
    })
    expect(answer.status).toBe(200)
  })
})
