/**
 * Browser tokens on the embedded broker (SPEC "Browser tokens"), with real parts: a token is the MQTT password
 * (any user name) of a `client` of its printers only, refused once expired or signed with another secret, and
 * its connection is closed when it expires. It cannot take a relay's client id, leave a Will outside its
 * printers, or lock a user out of a client id. With PERSISTENCE=redis every broker process accepts the same
 * tokens; with level, a token outlives a broker restart.
 */
import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { issueToken, type TokenIssuer } from '../../access/tokens.ts'
import { loadBrokerConfig } from '../../broker/config.ts'
import { PrintwireBroker } from '../../broker/mqttBroker.ts'
import { TOKEN_SECRET_FILE, TOKEN_SECRET_REDIS_KEY } from '../../broker/tokenSecret.ts'
import { addUser, removeUser } from '../../cli/userCommand.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { brokerProcessEnv, startBrokerProcess } from '../../harness/brokerProcess.ts'
import { captureLog } from '../../harness/logCapture.ts'
import { closedAt as closed, TestClient, tryLogin as tryLoginAs } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { startRedis } from '../../harness/redisServer.ts'
import { decodeSecret } from '../../runtime/secretText.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const SECRET_TEXT = 'qgjBkYF3C3TnVhw0H5b1mOZ4xP2sN8aLdR6eW9cUyKo'
const SECRET = decodeSecret(SECRET_TEXT) as Buffer
const OTHER_SECRET = decodeSecret('Zq1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKkLlMmNn') as Buffer
const ALICE = { name: 'alice', role: 'client' as const, printers: ['lobby'] }
const OPS = { name: 'ops', role: 'admin' as const, printers: ['*'] }
const WAIT_MS = 10_000

function tokenFor (printers: string[], ttlSeconds = 600, secret = SECRET, now = Date.now(), issuer: TokenIssuer = ALICE): string {
  return issueToken(secret, issuer, { printers, ttlSeconds }, now).token
}

const tryLogin = async (url: string, options: Record<string, unknown>): Promise<TestClient | number | string> => await tryLoginAs(cleanup, url, options)

async function authFile (): Promise<string> {
  const file = `${await tempDir(cleanup)}/auth.json`
  await writeTestUsers(file)
  return file
}

describe('browser tokens on the embedded broker', () => {
  it('make a client of the token\'s printers only: it prints there, and cannot publish, read or subscribe elsewhere', async () => {
    const broker = cleanup.add(await startBroker({ AUTH_FILE: await authFile(), TOKEN_SECRET: SECRET_TEXT }))
    const lobby = cleanup.add(await startPrinter())
    const bar = cleanup.add(await startPrinter())
    const ops = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'ops', password: PASSWORDS.ops }))
    await ops.subscribe('printers/+/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby }, await tempDir(cleanup), { RELAY_ID: 'a', MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { bar }, await tempDir(cleanup), { RELAY_ID: 'b', MQTT_USERNAME: 'relay-bar', MQTT_PASSWORD: PASSWORDS['relay-bar'] })))
    for (const id of ['lobby', 'bar']) await ops.waitFor((m) => m.topic === `printers/${id}/status` && m.json?.state === 'online', WAIT_MS, `${id} online`)

    // Any user name: the token decides. Issued by an admin, it is still only a client of lobby.
    const page = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'box-office-page', password: tokenFor(['lobby'], 600, SECRET, Date.now(), OPS) }))
    await page.subscribe('#')
    await expect(page.client.subscribeAsync('printers/bar/responses', { qos: 1 })).rejects.toThrow(/Subscribe error/)
    await page.publish('printers/lobby/jobs', JSON.stringify({ id: 'by-token', data: 'token ticket<p>' }))
    expect((await page.outcome('lobby', 'by-token')).json.status).toBe('printed')
    expect(lobby.tickets.map((t) => t.bytes.toString())).toEqual(['token ticket<p>'])

    // Bar's results and status (retained and live) never reach it, though it subscribed to `#`.
    const bob = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'bob', password: PASSWORDS.bob }))
    await bob.subscribe('printers/bar/responses')
    await bob.publish('printers/bar/jobs', JSON.stringify({ id: 'bobs', data: 'bar ticket<p>' }))
    await bob.outcome('bar', 'bobs')
    await ops.publish('printers/lobby/errors', JSON.stringify({ jobId: 'fence' }))
    await page.waitFor((m) => m.json?.jobId === 'fence')
    expect(page.messages.filter((m) => m.topic.startsWith('printers/bar/'))).toEqual([])

    // Publishing to bar closes its connection, and bar prints nothing from it.
    const gone = closed(page)
    page.client.publish('printers/bar/jobs', 'not yours<p>', { qos: 1 })
    await gone
    expect(bar.tickets.map((t) => t.bytes.toString())).toEqual(['bar ticket<p>'])
  })

  it('refuses an expired token, one of another secret, and a forged one; a password still logs in', async () => {
    const broker = cleanup.add(await startBroker({ AUTH_FILE: await authFile(), TOKEN_SECRET: SECRET_TEXT }))
    const expired = tokenFor(['lobby'], 60, SECRET, Date.now() - 61_000)
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: expired })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: tokenFor(['lobby'], 600, OTHER_SECRET) })).toBe(4)
    const good = tokenFor(['lobby'])
    const [version, body, signature] = good.split('.') as [string, string, string]
    const wider = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), prn: ['*'] })).toString('base64url')
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: `${version}.${wider}.${signature}` })).toBe(4)
    // A relay user's token, or one for printers its issuer does not have, is refused however it was made.
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: tokenFor(['lobby'], 600, SECRET, Date.now(), { name: 'relay-lobby', role: 'client', printers: ['lobby'] }) })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: tokenFor(['bar'], 600, SECRET, Date.now(), { name: 'alice', role: 'client', printers: ['bar'] }) })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice })).toBeInstanceOf(TestClient)
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: good })).toBeInstanceOf(TestClient)
    expect(await tryLogin(broker.mqttUrl, { username: '', password: good })).toBeInstanceOf(TestClient)
  })

  it('closes a token\'s connection when the token expires, logging it without the token, and refuses it from then on', async () => {
    const log = captureLog('info')
    const file = await authFile()
    const broker = new PrintwireBroker({ config: loadBrokerConfig({ PORT: '0', MQTT_PORT: '0', LISTEN_HOST: '127.0.0.1', PERSISTENCE: 'memory', AUTH_FILE: file, TOKEN_SECRET: SECRET_TEXT }), logger: log.logger })
    await broker.start()
    cleanup.defer(() => broker.stop())
    const url = `mqtt://127.0.0.1:${broker.mqttPort}`
    const { token, expiresAt } = issueToken(SECRET, ALICE, { printers: ['lobby'], ttlSeconds: 2 }, Date.now())
    const page = cleanup.add(await TestClient.connect(url, { username: 'page', password: token }))
    await page.subscribe('printers/lobby/status')
    const closedAt = await closed(page)
    expect(closedAt).toBeGreaterThanOrEqual(Date.parse(expiresAt))
    expect(await tryLogin(url, { username: 'page', password: token })).toBe(5)
    expect(log.entries().some((e) => e.msg === 'token expired: connection closed')).toBe(true)
    expect(log.entries().some((e) => e.msg === 'connection refused' && e.reason === 'TOKEN_EXPIRED' && e.token === 'EXPIRED')).toBe(true)
    expect(log.text()).not.toContain(token.split('.')[2])
    expect(log.text()).not.toContain(SECRET_TEXT)
  })

  it('checks tokens without scrypt, but counts bad ones against the address like wrong passwords', async () => {
    const broker = cleanup.add(await startBroker({ AUTH_FILE: await authFile(), TOKEN_SECRET: SECRET_TEXT, LOGIN_FAILURES_PER_ADDRESS: '3', LOGIN_FAILURES_PER_USER_ADDRESS: '2' }))
    const access = broker.broker.access
    if (access === undefined) throw new Error('no access control')
    for (let i = 0; i < 3; i++) expect(await tryLogin(broker.mqttUrl, { username: `page-${i}`, password: tokenFor(['lobby']) })).toBeInstanceOf(TestClient)
    expect(access.passwordChecks).toBe(0)
    // Three forged tokens under three user names: the address is blocked, for a good token too.
    for (let i = 0; i < 3; i++) expect(await tryLogin(broker.mqttUrl, { username: `guess-${i}`, password: tokenFor(['lobby'], 600, OTHER_SECRET) })).toBe(4)
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: tokenFor(['lobby']) })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: '', password: tokenFor(['lobby']) })).toBe(5)
    expect(access.passwordChecks).toBe(0)
  })

  it('keeps relay client ids and Wills outside its printers from a token, and never locks a user out of a client id', async () => {
    const file = await authFile()
    const broker = cleanup.add(await startBroker({ AUTH_FILE: file, TOKEN_SECRET: SECRET_TEXT }))
    const token = tokenFor(['lobby'])
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: token, clientId: 'printwire-relay:venue:lobby' })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: token, clientId: 'printwire-relay-venue-lobby' })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: token, will: { topic: 'printers/lobby/status', payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: token, will: { topic: 'printers/bar/jobs', payload: Buffer.from('x'), qos: 1, retain: false } })).toBe(5)

    // Alice's persistent session: her token may not take it (a token is not its issuer).
    const alices = await TestClient.connect(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice, clientId: 'alice-desk', clean: false })
    await alices.subscribe('printers/lobby/responses')
    await alices.stop()
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: token, clientId: 'alice-desk', clean: false })).toBe(2)
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: token, clientId: 'alice-desk' })).toBe(2)

    // A token has no persistent session (it would outlive the token): CONNACK 5. Its live connection gives way to
    // a user's log-in under that id, and a clean one of another token with the id is refused (2).
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: token, clientId: 'kiosk-1', clean: false })).toBe(5)
    const kiosk = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'page', password: token, clientId: 'kiosk-1' }))
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: tokenFor(['lobby'], 600, SECRET, Date.now(), { name: 'ops', role: 'client', printers: ['*'] }), clientId: 'kiosk-1' })).toBe(2)
    expect(kiosk.client.connected).toBe(true)
    const live = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'page', password: token, clientId: 'kiosk-2' }))
    const taken = closed(live)
    expect(await tryLogin(broker.mqttUrl, { username: 'bob', password: PASSWORDS.bob, clientId: 'kiosk-2' })).toBeInstanceOf(TestClient)
    await taken
  })

  it('are issued by the broker for a user of AUTH_FILE (what POST /api/tokens calls), never for a token', async () => {
    const broker = cleanup.add(await startBroker({ AUTH_FILE: await authFile(), TOKEN_SECRET: SECRET_TEXT }))
    const access = broker.broker.access
    if (access === undefined) throw new Error('no access control')
    const issued = access.issueToken('alice', { printers: ['lobby'], ttlSeconds: 60 })
    expect(Date.parse(issued.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000)
    const page = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'page', password: issued.token }))
    await page.publish('printers/lobby/jobs', 'from an issued token<p>')
    const codeOf = (fn: () => unknown): string | undefined => {
      try { fn() } catch (error) { return (error as { code?: string }).code }
      return undefined
    }
    expect(codeOf(() => access.issueToken('alice', { printers: ['bar'], ttlSeconds: 60 }))).toBe('FORBIDDEN')
    expect(codeOf(() => access.issueToken('relay-lobby', { printers: ['lobby'], ttlSeconds: 60 }))).toBe('FORBIDDEN')
    expect(codeOf(() => access.issueToken('alice', { printers: ['lobby'], ttlSeconds: 86_401 }))).toBe('INVALID_TOKEN_REQUEST')
    // A token's connection is not a user: it cannot make itself a longer-lived token.
    expect(codeOf(() => access.issueToken('token:alice:lobby', { printers: ['lobby'], ttlSeconds: 60 }))).toBe('NOT_FOUND')
  })

  it('ends a token when its issuer leaves AUTH_FILE or loses the printer', async () => {
    const file = await authFile()
    await addUser(file, 'carol', { password: 'carol-pw', role: 'client', printers: 'lobby,bar' })
    const broker = cleanup.add(await startBroker({ AUTH_FILE: file, TOKEN_SECRET: SECRET_TEXT }))
    const carol = { name: 'carol', role: 'client' as const, printers: ['lobby', 'bar'] }
    const token = tokenFor(['bar'], 600, SECRET, Date.now(), carol)
    const page = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'page', password: token }))
    const gone = closed(page)
    await addUser(file, 'carol', { password: 'carol-pw', role: 'client', printers: 'lobby' })
    await gone
    await expect.poll(async () => await tryLogin(broker.mqttUrl, { username: 'page', password: token }), { timeout: WAIT_MS }).toBe(5)
    const lobbyToken = tokenFor(['lobby'], 600, SECRET, Date.now(), carol)
    expect(await tryLogin(broker.mqttUrl, { username: 'page', password: lobbyToken })).toBeInstanceOf(TestClient)
    await removeUser(file, 'carol')
    await expect.poll(async () => await tryLogin(broker.mqttUrl, { username: 'page', password: lobbyToken }), { timeout: WAIT_MS }).toBe(5)
  })
})

describe('the token secret', () => {
  it('with PERSISTENCE=redis, is made once in Redis: two broker processes accept the same tokens', async () => {
    const file = await authFile()
    const env: Record<string, string> = { ...await brokerProcessEnv(cleanup, 'redis'), AUTH_FILE: file }
    const other = { ...env, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    // Started together: of the two secrets they make, Redis keeps one (SET NX), and both take that one.
    const [a, b] = await Promise.all([startBrokerProcess(cleanup, env), startBrokerProcess(cleanup, other)])
    const redis = new Redis(env.REDIS_URL as string, { lazyConnect: true })
    await redis.connect()
    cleanup.defer(() => { redis.disconnect() })
    const text = await redis.get(TOKEN_SECRET_REDIS_KEY) ?? ''
    const secret = decodeSecret(text) as Buffer
    expect(secret).toBeDefined()
    const token = tokenFor(['lobby'], 600, secret)
    for (const port of [env.MQTT_PORT, other.MQTT_PORT]) {
      expect(await tryLogin(`mqtt://127.0.0.1:${port}`, { username: 'page', password: token })).toBeInstanceOf(TestClient)
      expect(await tryLogin(`mqtt://127.0.0.1:${port}`, { username: 'page', password: tokenFor(['lobby'], 600, OTHER_SECRET) })).toBe(4)
    }
    for (const broker of [a, b]) {
      expect(broker.logs.find((l) => l.msg === 'browser tokens: signing secret loaded')?.from).toBe(`Redis key ${TOKEN_SECRET_REDIS_KEY}`)
      expect(JSON.stringify(broker.logs) + broker.stderr).not.toContain(text)
    }
  })

  it('with PERSISTENCE=level, is made once in DATA_DIR (mode 0600): a token outlives a broker restart', async () => {
    const env: Record<string, string> = { ...await brokerProcessEnv(cleanup, 'level'), AUTH_FILE: await authFile() }
    const url = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const first = await startBrokerProcess(cleanup, env)
    const file = path.join(env.DATA_DIR as string, TOKEN_SECRET_FILE)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const text = await readFile(file, 'utf8')
    const token = tokenFor(['lobby'], 600, decodeSecret(text) as Buffer)
    const page = await TestClient.connect(url, { username: 'page', password: token })
    await page.stop()
    expect(await first.kill('SIGTERM')).toBe(0)

    const second = await startBrokerProcess(cleanup, env)
    expect(await tryLogin(url, { username: 'page', password: token })).toBeInstanceOf(TestClient)
    expect(await readFile(file, 'utf8')).toBe(text)
    for (const broker of [first, second]) expect(JSON.stringify(broker.logs) + broker.stderr).not.toContain(text.trim())
  })

  it('refuses to start on a damaged secret file or Redis key, naming it without showing it', async () => {
    const dataDir = await tempDir(cleanup)
    await writeFile(path.join(dataDir, TOKEN_SECRET_FILE), 'damaged-secret\n', { mode: 0o600 })
    const file = await authFile()
    const atLevel = startBroker({ AUTH_FILE: file, PERSISTENCE: 'level', DATA_DIR: dataDir })
    await expect(atLevel).rejects.toThrow(/token secret in .*token-secret is not valid.*delete it to make a new one/)
    await expect(atLevel).rejects.not.toThrow(/damaged-secret/)

    const redisServer = cleanup.add(await startRedis())
    const redis = new Redis(redisServer.url, { lazyConnect: true })
    await redis.connect()
    cleanup.defer(() => { redis.disconnect() })
    await redis.set(TOKEN_SECRET_REDIS_KEY, 'damaged-secret')
    const atRedis = startBroker({ AUTH_FILE: file, PERSISTENCE: 'redis', REDIS_URL: redisServer.url })
    await expect(atRedis).rejects.toThrow(/token secret in Redis key printwire:token-secret is not valid/)
    await expect(atRedis).rejects.not.toThrow(/damaged-secret/)
  })

  it('refuses to start with a TOKEN_SECRET that is not one, without showing it', async () => {
    const refusal = (() => {
      try {
        loadBrokerConfig({ AUTH_FILE: 'auth.json', TOKEN_SECRET: 'hunter2-hunter2-hunter2-hunter2-hunter2' })
      } catch (error) {
        return (error as Error).message
      }
      return 'accepted'
    })()
    expect(refusal).toMatch(/TOKEN_SECRET: must be at least 32 random bytes/)
    expect(refusal).not.toContain('hunter2')
  })
})
