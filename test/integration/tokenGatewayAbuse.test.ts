/**
 * The web server's token gateway in Mosquitto mode (web/server/tokenGateway.ts, tokenSession.ts), tried as an
 * attacker holding a browser token would: raw MQTT packets over its `/mqtt` (packets sent before the CONNACK, a
 * second CONNECT, shared-subscription and `$SYS` filters, a Forget of another printer), and a Will left behind by a
 * token whose issuer then loses the printer. Real Mosquitto, the web server in front, a relay and a simulated
 * printer per printer (lobby, bar).
 */
import path from 'node:path'
import mqtt from 'mqtt'
import { generate, parser as packetParser, type Packet } from 'mqtt-packet'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { issueToken, tokenPrincipal, type TokenIssuer } from '../../access/tokens.ts'
import { addUser } from '../../cli/userCommand.ts'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { eventually } from '../../harness/httpApi.ts'
import { closedAt, TestClient, tryLogin } from '../../harness/mqttClient.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { serveLobbyAndBar } from '../../harness/venue.ts'
import { decodeSecret } from '../../runtime/secretText.ts'
import { gatewayClientId } from '../../web/server/tokenGateway.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const SECRET_TEXT = 'qgjBkYF3C3TnVhw0H5b1mOZ4xP2sN8aLdR6eW9cUyKo'
const SECRET = decodeSecret(SECRET_TEXT) as Buffer
const ALICE: TokenIssuer = { name: 'alice', role: 'client', printers: ['lobby'] }

async function venue (target = 'Mosquitto'): Promise<Awaited<ReturnType<typeof serveLobbyAndBar>> & { authFile: string, wsUrl: string, mqttUrl: string }> {
  const dir = await tempDir(cleanup)
  const authFile = path.join(dir, 'auth.json')
  await writeTestUsers(authFile)
  const broker = BROKER_TARGETS.find((t) => t.name === target)
  if (broker === undefined) throw new Error(`no ${target} target in harness/accessTargets.ts`)
  const urls = await broker.start(authFile, dir, cleanup, { AUTH_FILE: authFile, TOKEN_SECRET: SECRET_TEXT })
  return { authFile, ...urls, ...await serveLobbyAndBar(cleanup, urls.mqttUrl) }
}

/** Sends `packets` in one WebSocket frame to `/mqtt`; resolves with what came back once the connection closes (or `untilMs`). */
async function rawSession (wsUrl: string, packets: Packet[], untilMs = 5000, raw?: Buffer): Promise<{ received: Packet[], closed: boolean }> {
  const ws = new WebSocket(wsUrl, 'mqtt')
  const received: Packet[] = []
  const parser = packetParser({ protocolVersion: 4 })
  parser.on('packet', (packet: Packet) => received.push(packet))
  ws.on('message', (data: Buffer) => parser.parse(data))
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
  ws.send(raw ?? Buffer.concat(packets.map((p) => generate(p))))
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), untilMs)
    ws.once('close', () => { clearTimeout(timer); resolve(true) })
  })
  ws.terminate()
  return { received, closed }
}

const connect = (password: string, clientId = 'raw-page'): Packet => ({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId, username: 'page', password: Buffer.from(password) })
const job = (id: string, data: string): string => JSON.stringify({ id, data })

/** A CONNECT with an empty client id and clean session 0, which mqtt-packet refuses to write: by hand. */
function persistentConnectWithoutId (password: string): Buffer {
  const text = (value: string | Buffer): Buffer => { const bytes = Buffer.from(value); return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]) }
  // Protocol name and level 4; flags: user name and password, clean session 0; keep-alive 30 s.
  const body = Buffer.concat([text('MQTT'), Buffer.from([4, 0xc0, 0, 30]), text(''), text('page'), text(password)])
  const length: number[] = []
  for (let n = body.length; ; ) { const byte = n % 128; n = Math.floor(n / 128); length.push(n > 0 ? byte | 0x80 : byte); if (n === 0) break }
  return Buffer.concat([Buffer.from([0x10, ...length]), body])
}

describe('the token gateway against a token holder (Mosquitto mode)', () => {
  it.each(BROKER_TARGETS.map((t) => t.name))('refuses a publish outside the token sent before the CONNACK, a second CONNECT, $share/$SYS filters and a Forget of any status (%s)', async (target) => {
    const v = await venue(target)
    const token = issueToken(SECRET, ALICE, { printers: ['lobby'], ttlSeconds: 600 }, Date.now()).token
    // A job for bar in the same frame as the CONNECT, before the token is even checked: the connection closes.
    const early = await rawSession(v.wsUrl, [connect(token), { cmd: 'publish', topic: 'printers/bar/jobs', payload: Buffer.from(job('early', 'not yours<p>')), qos: 1, messageId: 1, retain: false, dup: false }])
    expect(early.closed).toBe(true)
    expect(early.received.some((p) => p.cmd === 'puback')).toBe(false)
    // A second CONNECT (as a user, to change who the connection is): closed.
    const twice = await rawSession(v.wsUrl, [connect(token), { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: 'x', username: 'ops', password: Buffer.from('ops-pw') }])
    expect(twice.closed).toBe(true)
    // Shared subscriptions and $SYS: refused in the SUBACK, whatever printer they name.
    const filters = ['$share/g/printers/bar/responses', '$share/g/printers/lobby/responses', '$share/g/#', '$SYS/#', '$printwire/#']
    const shared = await rawSession(v.wsUrl, [connect(token), { cmd: 'subscribe', messageId: 7, subscriptions: filters.map((topic) => ({ topic, qos: 1 as const })) }], 1500)
    expect(shared.received.find((p) => p.cmd === 'suback')).toMatchObject({ granted: filters.map(() => 128) })
    // Forget (an empty retained status) of its own printer or another: closed, and the statuses stay.
    for (const printer of ['lobby', 'bar']) {
      const forget = await rawSession(v.wsUrl, [connect(token), { cmd: 'publish', topic: `printers/${printer}/status`, payload: Buffer.alloc(0), qos: 1, messageId: 2, retain: true, dup: false }])
      expect(forget.closed).toBe(true)
    }
    // Nor can a client of lobby, or bar's relay, over MQTT: refused (the connection closed, or nothing retained).
    for (const [username, password] of [['alice', PASSWORDS.alice], ['relay-bar', PASSWORDS['relay-bar']]] as const) {
      const user = cleanup.add(await TestClient.connect(v.mqttUrl, { username, password }))
      // Handled once acknowledged (Mosquitto drops what its ACL refuses, and acknowledges it) or closed (Aedes).
      const handled = new Promise<void>((resolve) => { user.client.once('close', () => resolve()); user.client.publish('printers/lobby/status', '', { qos: 1, retain: true }, () => resolve()) })
      await handled
    }
    const reader = cleanup.add(await TestClient.connect(v.mqttUrl, { username: 'ops', password: 'ops-pw' }))
    await reader.subscribe('printers/+/status')
    for (const printer of ['lobby', 'bar']) await reader.waitFor((m) => m.topic === `printers/${printer}/status` && m.json?.state === 'online')
    // Nothing printed from any of it.
    expect(v.bar.tickets).toEqual([])
    expect(v.lobby.tickets).toEqual([])
  })

  it.each(BROKER_TARGETS.map((t) => t.name))('never publishes the Will of a token whose issuer lost the printer (%s)', async (target) => {
    const v = await venue(target)
    await addUser(v.authFile, 'carol', { password: 'carol-pw', role: 'client', printers: 'lobby,bar' })
    const carol: TokenIssuer = { name: 'carol', role: 'client', printers: ['lobby', 'bar'] }
    const token = issueToken(SECRET, carol, { printers: ['bar'], ttlSeconds: 600 }, Date.now()).token
    const will = { topic: 'printers/bar/jobs', payload: Buffer.from(job('will-after-revoke', 'printed after carol lost bar<p>')), qos: 1 as const, retain: false }
    const page = await eventually(async () => await tryLogin(cleanup, v.wsUrl, { username: 'page', password: token, will }), (r) => r instanceof TestClient) as TestClient
    const gone = closedAt(page)
    await addUser(v.authFile, 'carol', { password: 'carol-pw', role: 'client', printers: 'lobby' })
    await gone
    // A job after it, through bar's relay: once it is printed, a Will published at the close would have been too.
    const bob = cleanup.add(await TestClient.connect(v.mqttUrl, { username: 'bob', password: 'bob-pw' }))
    await bob.subscribe('printers/bar/responses')
    await bob.publish('printers/bar/jobs', job('after', 'bob after<p>'))
    expect((await bob.outcome('bar', 'after')).json.status).toBe('printed')
    expect(v.bar.tickets.map((t) => t.bytes.toString())).toEqual(['bob after<p>'])
  })

  it('unsubscribes a narrowed # as a whole: nothing of its printers comes after', async () => {
    const v = await venue()
    const token = issueToken(SECRET, ALICE, { printers: ['lobby'], ttlSeconds: 600 }, Date.now()).token
    const page = cleanup.add(await TestClient.connect(v.wsUrl, { username: 'page', password: token }))
    const granted = await page.client.subscribeAsync('#', { qos: 1 })
    expect(granted.map((g) => g.qos)).toEqual([1])
    await page.client.unsubscribeAsync('#')
    const alice = cleanup.add(await TestClient.connect(v.mqttUrl, { username: 'alice', password: 'alice-pw' }))
    await alice.subscribe('printers/lobby/responses')
    await alice.publish('printers/lobby/jobs', job('after-unsubscribe', 'printed<p>'))
    await alice.outcome('lobby', 'after-unsubscribe')
    // A subscription after it: its retained status comes, behind anything the unsubscribed filter still sent.
    await page.subscribe('printers/lobby/status')
    await page.waitFor((m) => m.topic === 'printers/lobby/status')
    expect(page.messages.filter((m) => m.topic !== 'printers/lobby/status').map((m) => m.topic)).toEqual([])
  })

  it('closes connections that never finish a CONNECT (silent, or a CONNECT announced and never sent), and serves others meanwhile', async () => {
    const v = await venue()
    const open = async (first?: Buffer): Promise<Promise<void>> => {
      const ws = new WebSocket(v.wsUrl, 'mqtt')
      ws.on('error', () => {})
      await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
      if (first !== undefined) ws.send(first)
      return new Promise<void>((resolve) => ws.once('close', () => resolve()))
    }
    // Silent ones, and ones that announce a CONNECT of 100,000 bytes and send 3 of it.
    const closes = await Promise.all([
      ...Array.from({ length: 10 }, async () => await open()),
      ...Array.from({ length: 10 }, async () => await open(Buffer.from([0x10, 0xa0, 0x8d, 0x06, 0x00, 0x04, 0x4d])))
    ])
    // Meanwhile a page logs in with a token and prints.
    const token = issueToken(SECRET, ALICE, { printers: ['lobby'], ttlSeconds: 600 }, Date.now()).token
    const page = cleanup.add(await TestClient.connect(v.wsUrl, { username: 'page', password: token }))
    await page.subscribe('printers/lobby/responses')
    await page.publish('printers/lobby/jobs', job('meanwhile', 'meanwhile<p>'))
    expect((await page.outcome('lobby', 'meanwhile')).json.status).toBe('printed')
    // Every one of them is closed by the gateway (CONNECT_WAIT_MS), none left open.
    await Promise.all(closes)
  })

  it('counts wrong passwords sent to Mosquitto through /mqtt in the log-in backoff (Mosquitto has none, and sees only the web server\'s address)', async () => {
    const v = await venue()
    for (let i = 0; i < 5; i++) expect(await tryLogin(cleanup, v.wsUrl, { username: 'alice', password: `guess-${i}` })).toBe(5)
    // Blocked for alice from this address: the right password is refused too, without reaching Mosquitto.
    expect(await tryLogin(cleanup, v.wsUrl, { username: 'alice', password: PASSWORDS.alice })).toBe(5)
    // Another user is not blocked, and Mosquitto's own listener is not the web server's to throttle.
    expect(await tryLogin(cleanup, v.wsUrl, { username: 'bob', password: PASSWORDS.bob })).toBeInstanceOf(TestClient)
    // (MQTT 5's CONNACK, with properties, is read as such on its way to the page.)
    expect(await tryLogin(cleanup, v.wsUrl, { username: 'bob', password: PASSWORDS.bob, protocolVersion: 5 })).toBeInstanceOf(TestClient)
    // MQTT 5's wrong passwords count as well: five, and bob is blocked too.
    for (let i = 0; i < 5; i++) expect(await tryLogin(cleanup, v.wsUrl, { username: 'bob', password: `guess-${i}`, protocolVersion: 5 })).toBe(135)
    expect(await tryLogin(cleanup, v.wsUrl, { username: 'bob', password: PASSWORDS.bob, protocolVersion: 4 })).toBe(5)
    expect(await tryLogin(cleanup, v.wsUrl, { username: 'bob', password: PASSWORDS.bob, protocolVersion: 5 })).toBe(135)
    expect(await tryLogin(cleanup, v.mqttUrl, { username: 'alice', password: PASSWORDS.alice })).toBeInstanceOf(TestClient)
  })

  // OPEN: a token's persistent session (clean=false) outlives the token: Mosquitto keeps it, queueing its printers'
  // messages (up to max_queued_messages / max_queued_bytes), for persistent_client_expiration (14 days), and a token
  // holder may open as many as it likes under made-up client ids. Ending them at expiry needs the gateway to keep
  // each token session's expiry beyond its connection (and across web server restarts), or to speak MQTT 5 to
  // Mosquitto (session expiry interval): too large for this pass. The embedded broker keeps them too.
  for (const target of ['Mosquitto', 'embedded Aedes']) {
    it(`refuses a persistent session to a token (it would outlive the token), and takes a clean one (${target})`, async () => {
      const v = await venue(target)
      const token = issueToken(SECRET, ALICE, { printers: ['lobby'], ttlSeconds: 600 }, Date.now()).token
      expect(await tryLogin(cleanup, v.wsUrl, { username: 'page', password: token, clientId: 'kept', clean: false })).toBe(5)
      expect(await tryLogin(cleanup, v.wsUrl, { username: 'page', password: token, clientId: 'kept', clean: true })).toBeInstanceOf(TestClient)
    })
  }

  it('refuses a token\'s persistent session without a client id, as MQTT 3.1.1 says (Mosquitto)', async () => {
    await persistentSessionWithoutId('Mosquitto')
  })

  // Aedes names such a connection `aedes_<uuid>` before the log-in hook: the hook refuses it with CONNACK 2.
  it('refuses a token\'s persistent session without a client id, as MQTT 3.1.1 says (embedded Aedes)', async () => {
    await persistentSessionWithoutId('embedded Aedes')
  })

  async function persistentSessionWithoutId (target: string): Promise<void> {
    const v = await venue(target)
    const token = issueToken(SECRET, ALICE, { printers: ['lobby'], ttlSeconds: 600 }, Date.now()).token
    // [MQTT-3.1.3-8]: CONNACK 2 (identifier rejected). A random id for it would be a session no one can resume.
    const anonymousPersistent = await rawSession(v.wsUrl, [], 5000, persistentConnectWithoutId(token))
    expect(anonymousPersistent.received.find((p) => p.cmd === 'connack')).toMatchObject({ returnCode: 2 })
    expect(anonymousPersistent.closed).toBe(true)
    // A clean one without an id is fine.
    const clean = await rawSession(v.wsUrl, [connect(token, '')], 1000)
    expect(clean.received.find((p) => p.cmd === 'connack')).toMatchObject({ returnCode: 0 })
  }
})
