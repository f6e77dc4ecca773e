/**
 * Browser tokens in Mosquitto mode (SPEC "Browser tokens"; web/server/tokenGateway.ts), with real parts: a real
 * Mosquitto with the repo's mosquitto.conf and exported users, the web server in front of it, a relay and a
 * simulated printer. Mosquitto cannot check a token, so the web server does, on its `/mqtt` and for its HTTP API's
 * Bearer callers: the same scope, expiry and refusals as on the embedded broker (browserTokens.test.ts).
 */
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { issueToken, type TokenIssuer } from '../../access/tokens.ts'
import { addUser, removeUser } from '../../cli/userCommand.ts'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { basicAuth, callApi, eventually } from '../../harness/httpApi.ts'
import { closedAt as closed, TestClient, tryLogin as tryLoginAs } from '../../harness/mqttClient.ts'
import { serveLobbyAndBar } from '../../harness/venue.ts'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { decodeSecret } from '../../runtime/secretText.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const SECRET_TEXT = 'qgjBkYF3C3TnVhw0H5b1mOZ4xP2sN8aLdR6eW9cUyKo'
const SECRET = decodeSecret(SECRET_TEXT) as Buffer
const OTHER_SECRET = decodeSecret('Zq1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKkLlMmNn') as Buffer
const ALICE: TokenIssuer = { name: 'alice', role: 'client', printers: ['lobby'] }
const OPS: TokenIssuer = { name: 'ops', role: 'admin', printers: ['*'] }
const WAIT_MS = 10_000

function tokenFor (printers: string[], { ttlSeconds = 600, secret = SECRET, now = Date.now(), issuer = ALICE }: { ttlSeconds?: number, secret?: Buffer, now?: number, issuer?: TokenIssuer } = {}): string {
  return issueToken(secret, issuer, { printers, ttlSeconds }, now).token
}

const tryLogin = async (url: string, options: Record<string, unknown>): Promise<TestClient | number | string> => await tryLoginAs(cleanup, url, options)

interface MosquittoVenue {
  authFile: string
  /** Mosquitto's own TCP listener. */
  mqttUrl: string
  /** The web server: its page, API and `/mqtt`. */
  httpUrl: string
  wsUrl: string
  lobby: BocaSimulator
  bar: BocaSimulator
  ops: TestClient
}

/** Mosquitto, the web server (AUTH_FILE, TOKEN_SECRET), printers lobby and bar each with its relay, both online. */
async function mosquittoVenue (): Promise<MosquittoVenue> {
  const dir = await tempDir(cleanup)
  const authFile = path.join(dir, 'auth.json')
  await writeTestUsers(authFile)
  const mosquitto = BROKER_TARGETS.find((target) => target.name === 'Mosquitto')
  if (mosquitto === undefined) throw new Error('no Mosquitto target in harness/accessTargets.ts')
  const urls = await mosquitto.start(authFile, dir, cleanup, { AUTH_FILE: authFile, TOKEN_SECRET: SECRET_TEXT })
  const { lobby, bar, ops } = await serveLobbyAndBar(cleanup, urls.mqttUrl)
  return { authFile, ...urls, lobby, bar, ops }
}

describe('browser tokens on Mosquitto, through the web server', () => {
  it('make a client of the token\'s printers only over /mqtt: it prints there, and cannot publish, read or subscribe elsewhere', async () => {
    const venue = await mosquittoVenue()
    // Any user name: the token decides. Issued by an admin, it is still only a client of lobby.
    const page = cleanup.add(await TestClient.connect(venue.wsUrl, { username: 'box-office-page', password: tokenFor(['lobby'], { issuer: OPS }) }))
    await page.subscribe('#')
    await expect(page.client.subscribeAsync('printers/bar/responses', { qos: 1 })).rejects.toThrow(/Subscribe error/)
    await expect(page.client.subscribeAsync('$SYS/#', { qos: 1 })).rejects.toThrow(/Subscribe error/)
    // A subscription of several filters: the refused one is refused in its place, the others granted.
    const suback = new Promise<number[]>((resolve) => page.client.on('packetreceive', (packet) => { if (packet.cmd === 'suback') resolve(packet.granted as number[]) }))
    page.client.subscribe({ 'printers/lobby/errors': { qos: 1 }, 'printers/bar/errors': { qos: 1 }, 'printers/lobby/status': { qos: 1 } }, () => {})
    expect(await suback).toEqual([1, 128, 1])
    await page.publish('printers/lobby/jobs', JSON.stringify({ id: 'by-token', data: 'token ticket<p>' }))
    expect((await page.outcome('lobby', 'by-token')).json.status).toBe('printed')
    expect(venue.lobby.tickets.map((t) => t.bytes.toString())).toEqual(['token ticket<p>'])

    // Bar's results and status (retained and live) never reach it, though it subscribed to `#` (Mosquitto sends
    // them to the gateway, an admin: the gateway drops them).
    const bob = cleanup.add(await TestClient.connect(venue.mqttUrl, { username: 'bob', password: PASSWORDS.bob }))
    await bob.subscribe('printers/bar/responses')
    await bob.publish('printers/bar/jobs', JSON.stringify({ id: 'bobs', data: 'bar ticket<p>' }))
    await bob.outcome('bar', 'bobs')
    await venue.ops.publish('printers/lobby/errors', JSON.stringify({ jobId: 'fence' }))
    await page.waitFor((m) => m.json?.jobId === 'fence')
    expect(page.messages.filter((m) => m.topic.startsWith('printers/bar/') || m.topic.startsWith('$SYS'))).toEqual([])

    // Publishing to bar closes its connection, and bar prints nothing from it.
    const gone = closed(page)
    page.client.publish('printers/bar/jobs', 'not yours<p>', { qos: 1 })
    await gone
    expect(venue.bar.tickets.map((t) => t.bytes.toString())).toEqual(['bar ticket<p>'])
  })

  it('refuses an expired token, one of another secret, a forged one and one its issuer may not give; passwords still pass', async () => {
    const venue = await mosquittoVenue()
    expect(await tryLogin(venue.wsUrl, { username: 'page', password: tokenFor(['lobby'], { ttlSeconds: 60, now: Date.now() - 61_000 }) })).toBe(5)
    expect(await tryLogin(venue.wsUrl, { username: 'page', password: tokenFor(['lobby'], { secret: OTHER_SECRET }) })).toBe(4)
    const good = tokenFor(['lobby'])
    const [version, body, signature] = good.split('.') as [string, string, string]
    const wider = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), prn: ['*'] })).toString('base64url')
    expect(await tryLogin(venue.wsUrl, { username: 'page', password: `${version}.${wider}.${signature}` })).toBe(4)
    expect(await tryLogin(venue.wsUrl, { username: 'page', password: tokenFor(['bar'], { issuer: { name: 'alice', role: 'client', printers: ['bar'] } }) })).toBe(5)
    // MQTT 3.1.1 only, as the embedded broker.
    expect(await tryLogin(venue.wsUrl, { username: 'page', password: good, protocolVersion: 5 })).toBe(1)
    // A Will outside what the token may publish.
    expect(await tryLogin(venue.wsUrl, { username: 'page', password: good, will: { topic: 'printers/lobby/status', payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } })).toBe(5)
    // Users log in through /mqtt as before (Mosquitto checks them), and a token is refused on Mosquitto's own port.
    expect(await tryLogin(venue.wsUrl, { username: 'alice', password: PASSWORDS.alice })).toBeInstanceOf(TestClient)
    expect(await tryLogin(venue.wsUrl, { username: 'alice', password: 'wrong' })).toBe(5)
    expect(await tryLogin(venue.mqttUrl, { username: 'page', password: good })).toBe(5)
    expect(await tryLogin(venue.wsUrl, { username: 'page', password: good })).toBeInstanceOf(TestClient)
    expect(await tryLogin(venue.wsUrl, { username: '', password: good })).toBeInstanceOf(TestClient)
  })

  it('refuses a relay\'s client id to a token, and never lets a token take a user\'s connection by its id', async () => {
    const venue = await mosquittoVenue()
    const token = tokenFor(['lobby'])
    expect(await tryLogin(venue.wsUrl, { username: 'page', password: token, clientId: 'printwire-relay:a:lobby' })).toBe(5)
    expect(await tryLogin(venue.wsUrl, { username: 'page', password: token, clientId: 'printwire-relay-a-lobby' })).toBe(5)
    // On Mosquitto a log-in under a connected client's id takes it over: through the gateway, a token's id is its own.
    const alice = cleanup.add(await TestClient.connect(venue.mqttUrl, { username: 'alice', password: PASSWORDS.alice, clientId: 'alice-desk' }))
    const page = cleanup.add(await TestClient.connect(venue.wsUrl, { username: 'page', password: token, clientId: 'alice-desk' }))
    const again = cleanup.add(await TestClient.connect(venue.wsUrl, { username: 'page', password: token, clientId: 'alice-desk' }))
    await alice.subscribe('printers/lobby/responses')
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'alice-still-here', data: 'still printing<p>' }))
    expect((await alice.outcome('lobby', 'alice-still-here')).json.status).toBe('printed')
    expect(alice.client.connected).toBe(true)
    // The same holder's same id is one session: the second log-in took it over from the first.
    await expect.poll(() => page.client.connected, { timeout: WAIT_MS }).toBe(false)
    expect(again.client.connected).toBe(true)
  })

  it('closes a token\'s connection when it expires, and when its issuer loses the printer', async () => {
    const venue = await mosquittoVenue()
    const { token, expiresAt } = issueToken(SECRET, ALICE, { printers: ['lobby'], ttlSeconds: 2 }, Date.now())
    const page = cleanup.add(await TestClient.connect(venue.wsUrl, { username: 'page', password: token }))
    await page.subscribe('printers/lobby/status')
    expect(await closed(page)).toBeGreaterThanOrEqual(Date.parse(expiresAt))
    expect(await tryLogin(venue.wsUrl, { username: 'page', password: token })).toBe(5)

    await addUser(venue.authFile, 'carol', { password: 'carol-pw', role: 'client', printers: 'lobby,bar' })
    const carol: TokenIssuer = { name: 'carol', role: 'client', printers: ['lobby', 'bar'] }
    const barToken = tokenFor(['bar'], { issuer: carol })
    const held = await eventually(async () => await tryLogin(venue.wsUrl, { username: 'page', password: barToken }), (r) => r instanceof TestClient) as TestClient
    const gone = closed(held)
    await addUser(venue.authFile, 'carol', { password: 'carol-pw', role: 'client', printers: 'lobby' })
    await gone
    await expect.poll(async () => await tryLogin(venue.wsUrl, { username: 'page', password: barToken }), { timeout: WAIT_MS }).toBe(5)
    await removeUser(venue.authFile, 'carol')
  })

  it('over HTTP: POST /api/tokens issues one, which prints as Bearer on its printers only, and is refused once expired', async () => {
    const venue = await mosquittoVenue()
    const issued = await callApi(venue.httpUrl, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: 2 }), type: 'application/json', auth: basicAuth('alice', PASSWORDS.alice) })
    expect(issued).toMatchObject({ status: 201 })
    const bearer = `Bearer ${String(issued.body?.token)}`
    expect(await callApi(venue.httpUrl, 'POST', '/tokens', { body: JSON.stringify({ printers: ['bar'], ttlSeconds: 60 }), type: 'application/json', auth: basicAuth('alice', PASSWORDS.alice) })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    const printed = await callApi(venue.httpUrl, 'POST', '/printers/lobby/jobs?wait=10', { body: 'bearer ticket<p>', type: 'text/plain', auth: bearer, headers: { 'idempotency-key': 'bearer-1' } })
    expect(printed).toMatchObject({ status: 200, body: { jobId: 'bearer-1', status: 'printed' } })
    expect(await callApi(venue.httpUrl, 'POST', '/printers/bar/jobs', { body: 'not yours<p>', type: 'text/plain', auth: bearer })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    const listed = await callApi(venue.httpUrl, 'GET', '/printers', { auth: bearer })
    expect((listed.body as Array<{ printerId: string }>).map((p) => p.printerId)).toEqual(['lobby'])
    expect(await callApi(venue.httpUrl, 'POST', '/tokens', { body: JSON.stringify({ printers: ['lobby'], ttlSeconds: 60 }), type: 'application/json', auth: bearer })).toMatchObject({ status: 403 })
    await eventually(async () => await callApi(venue.httpUrl, 'GET', '/printers', { auth: bearer }), (a) => a.status === 401, 5000)
    expect(venue.lobby.tickets.map((t) => t.bytes.toString())).toEqual(['bearer ticket<p>'])
    expect(venue.bar.tickets).toEqual([])
  })
})
