/**
 * The embedded broker's access control beyond the shared contract (accessContract.test.ts): what Aedes
 * does that Mosquitto cannot (refused SUBACKs, reserved relay client ids, AUTH_FILE reloads), TLS, the
 * start-up checks, and the rules themselves (policy.ts) as a table.
 */
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { promisify } from 'node:util'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { AccessControl } from '../../access/accessControl.ts'
import { grantsFor, mayPublish, mayRead, maySubscribe, readableTopicsOf } from '../../access/policy.ts'
import { connectedClients } from '../../broker/aedes/internals.ts'
import { listenHost, loadBrokerConfig, plainMqttHost } from '../../broker/config.ts'
import { addUser, removeUser } from '../../cli/userCommand.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { TestClient, tryLogin as tryLoginAs } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'

const run = promisify(execFile)
const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function authFileWithUsers (): Promise<string> {
  const file = `${await tempDir(cleanup)}/auth.json`
  await writeTestUsers(file)
  return file
}

/** Connects, or resolves with the CONNACK return code (or error message) of the refusal. */
const tryLogin = async (url: string, options: Record<string, unknown>): Promise<TestClient | number | string> => await tryLoginAs(cleanup, url, options)

describe('access rules (policy.ts)', () => {
  const client = grantsFor({ role: 'client', printers: ['lobby'] }, 'printers')
  const relay = grantsFor({ role: 'relay', printers: ['lobby'] }, 'printers')
  const everywhere = grantsFor({ role: 'client', printers: ['*'] }, 'printers')
  const admin = grantsFor({ role: 'admin', printers: ['*'] }, 'printers')

  it.each([
    ['client publishes its printer\'s jobs', mayPublish(client, 'printers/lobby/jobs'), true],
    ['client publishes another printer\'s jobs', mayPublish(client, 'printers/bar/jobs'), false],
    ['client cancels on its printer', mayPublish(client, 'printers/lobby/cancel'), true],
    ['client cancels on another printer', mayPublish(client, 'printers/bar/cancel'), false],
    ['client reads cancels', mayRead(client, 'printers/lobby/cancel'), false],
    ['client forges a result', mayPublish(client, 'printers/lobby/responses'), false],
    ['client forges a status', mayPublish(client, 'printers/lobby/status'), false],
    ['client publishes server/time', mayPublish(client, 'server/time'), false],
    ['client reads its results', mayRead(client, 'printers/lobby/errors'), true],
    ['client reads its printer\'s jobs', mayRead(client, 'printers/lobby/jobs'), false],
    ['client reads another printer\'s results', mayRead(client, 'printers/bar/responses'), false],
    ['client reads a deeper topic', mayRead(client, 'printers/lobby/status/x'), false],
    ['client reads server/time', mayRead(client, 'server/time'), true],
    ['client subscribes #', maySubscribe(client, '#'), true],
    ['client subscribes printers/+/status', maySubscribe(client, 'printers/+/status'), true],
    ['client subscribes another printer\'s #', maySubscribe(client, 'printers/bar/#'), false],
    ['client subscribes jobs through +', maySubscribe(client, 'printers/+/jobs'), false],
    ['client subscribes $SYS', maySubscribe(client, '$SYS/#'), false],
    ['relay reads its jobs', mayRead(relay, 'printers/lobby/jobs'), true],
    ['relay reads another printer\'s jobs', mayRead(relay, 'printers/bar/jobs'), false],
    ['relay reads its cancels', mayRead(relay, 'printers/lobby/cancel'), true],
    ['relay reads another printer\'s cancels', mayRead(relay, 'printers/bar/cancel'), false],
    ['relay publishes a cancel', mayPublish(relay, 'printers/lobby/cancel'), false],
    ['relay publishes its status', mayPublish(relay, 'printers/lobby/status'), true],
    ['relay publishes another printer\'s result', mayPublish(relay, 'printers/bar/responses'), false],
    ['relay publishes a job', mayPublish(relay, 'printers/lobby/jobs'), false],
    ['relay reads server/time (expiresAt is judged by the broker\'s clock)', mayRead(relay, 'server/time'), true],
    ['relay publishes server/time', mayPublish(relay, 'server/time'), false],
    ['* client prints anywhere', mayPublish(everywhere, 'printers/any-printer/jobs'), true],
    ['* client cancels anywhere', mayPublish(everywhere, 'printers/any-printer/cancel'), true],
    ['* client still cannot forge', mayPublish(everywhere, 'printers/any-printer/responses'), false],
    ['* client cannot reach beyond the prefix', mayPublish(everywhere, 'other/x/jobs'), false],
    ['admin publishes anything', mayPublish(admin, 'printers/x/responses'), true],
    ['admin reads $SYS', mayRead(admin, '$SYS/broker/uptime'), true]
  ])('%s: %s', (_what, actual, expected) => {
    expect(actual).toBe(expected)
  })

  const two = grantsFor({ role: 'client', printers: ['lobby', 'bar'] }, 'printers')
  it.each([
    ['a client of two printers: printers/+/status', readableTopicsOf(two, 'printers/+/status'), ['printers/lobby/status', 'printers/bar/status']],
    ['a client of two printers: #', readableTopicsOf(two, '#'), [
      'printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status',
      'printers/bar/responses', 'printers/bar/errors', 'printers/bar/status', 'server/time']],
    ['a client of one printer: printers/lobby/+', readableTopicsOf(client, 'printers/lobby/+'), ['printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status']],
    ['a relay: printers/+/jobs', readableTopicsOf(relay, 'printers/+/jobs'), ['printers/lobby/jobs']],
    ['a topic without wildcards stays as it is', readableTopicsOf(two, 'printers/bar/status'), undefined],
    ['a * client keeps its wildcard', readableTopicsOf(everywhere, 'printers/+/status'), undefined],
    ['an admin keeps its wildcard', readableTopicsOf(admin, 'printers/+/status'), undefined],
    ['nothing readable', readableTopicsOf(two, 'printers/+/jobs'), undefined]
  ])('concrete topics of a wildcard subscription, %s', (_what, actual, expected) => {
    expect(actual).toEqual(expected)
  })
})

describe('embedded broker access', () => {
  it('refuses a subscription that can match nothing the user may read, and grants one that overlaps', async () => {
    const broker = cleanup.add(await startBroker({ AUTH_FILE: await authFileWithUsers() }))
    const alice = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
    await expect(alice.client.subscribeAsync('printers/bar/responses', { qos: 1 })).rejects.toThrow(/Subscribe error/)
    await expect(alice.client.subscribeAsync('printers/lobby/jobs', { qos: 1 })).rejects.toThrow(/Subscribe error/)
    expect(await alice.client.subscribeAsync('printers/+/responses', { qos: 1 })).toEqual([expect.objectContaining({ qos: 1 })])
  })

  it('subscribes a client\'s wildcard filter as its printers\' topics: the same messages, routed only to it, until it unsubscribes', async () => {
    const authFile = await authFileWithUsers()
    await addUser(authFile, 'carol', { password: 'carol-pw', role: 'client', printers: 'lobby,bar' })
    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile }))
    const ops = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'ops', password: PASSWORDS.ops }))
    await ops.subscribe('$SYS/+/new/subscribes')
    for (const id of ['lobby', 'bar', 'other']) await ops.client.publishAsync(`printers/${id}/status`, `{"state":"online","printerId":"${id}"}`, { qos: 1, retain: true })
    const carol = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'carol', password: 'carol-pw', clientId: 'carol-page' }))
    await carol.subscribe('printers/+/status', 'printers/+/errors')
    // What the broker routes to her connection (Aedes' own record of it): her printers' topics, not the filters.
    const clients = connectedClients(broker.broker.broker) as Record<string, { subscriptions: Record<string, unknown> } | undefined>
    const routed = (): string[] => Object.keys(clients['carol-page']?.subscriptions ?? {}).sort()
    expect(routed()).toEqual(['printers/bar/errors', 'printers/bar/status', 'printers/lobby/errors', 'printers/lobby/status'])
    // Its SUBSCRIBE itself was rewritten (the broker's $SYS notice of it): so the retained messages looked up
    // are those of her printers' topics, not every one under the filter.
    const subscribed = new Set<string>()
    await ops.waitFor((m) => {
      const notice = m.json as { clientId?: string, subs?: Array<{ topic: string }> } | undefined
      if (notice?.clientId === 'carol-page') for (const sub of notice.subs ?? []) subscribed.add(sub.topic)
      return subscribed.size >= 4
    }, 10_000, 'the subscriptions of carol-page')
    expect([...subscribed].sort()).toEqual(['printers/bar/errors', 'printers/bar/status', 'printers/lobby/errors', 'printers/lobby/status'])
    // The retained statuses of her printers, not the other one's.
    await carol.waitFor((m) => m.topic === 'printers/lobby/status')
    await carol.waitFor((m) => m.topic === 'printers/bar/status')
    await ops.client.publishAsync('printers/other/status', 'live', { qos: 1 })
    await ops.client.publishAsync('printers/bar/status', 'live', { qos: 1 })
    await carol.waitFor((m) => m.topic === 'printers/bar/status' && m.text === 'live')
    expect(carol.messages.filter((m) => m.topic.includes('/other/'))).toEqual([])
    // Unsubscribing the filter unsubscribes its topics; the other filter stays.
    await carol.client.unsubscribeAsync('printers/+/status')
    await ops.client.publishAsync('printers/lobby/status', 'after', { qos: 1 })
    await ops.client.publishAsync('printers/lobby/errors', 'fence', { qos: 1 })
    await carol.waitFor((m) => m.topic === 'printers/lobby/errors' && m.text === 'fence')
    expect(carol.messages.filter((m) => m.text === 'after')).toEqual([])
    expect(routed()).toEqual(['printers/bar/errors', 'printers/lobby/errors'])
  })

  it('closes the connection of a client that publishes where it may not', async () => {
    const broker = cleanup.add(await startBroker({ AUTH_FILE: await authFileWithUsers() }))
    const alice = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
    const closed = new Promise<void>((resolve) => alice.client.once('close', () => resolve()))
    alice.client.publish('printers/bar/jobs', 'x', { qos: 1 })
    await closed
  })

  it('keeps relay client ids for relay users of that printer, matched exactly, so nobody else can take over a relay\'s session', async () => {
    const file = await authFileWithUsers()
    await addUser(file, 'relay-foo-bar', { password: 'foo-bar-pw', role: 'relay', printers: 'foo-bar' })
    const broker = cleanup.add(await startBroker({ AUTH_FILE: file }))
    const id = 'printwire-relay:venue:lobby'
    expect(await tryLogin(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice, clientId: id })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-bar', password: PASSWORDS['relay-bar'], clientId: id })).toBe(5)
    // The relay user of `bar` and the session of relay `venue`'s printer `foo-bar` (or, in the earlier form,
    // relay `venue-foo`'s printer `bar`): refused both ways.
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-bar', password: PASSWORDS['relay-bar'], clientId: 'printwire-relay:venue:foo-bar' })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-bar', password: PASSWORDS['relay-bar'], clientId: 'printwire-relay-venue-foo-bar' })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-bar', password: PASSWORDS['relay-bar'], clientId: 'printwire-relay:venue:bar:x' })).toBe(5)
    // The earlier form, for ending a relay's earlier session: only as the relay that holds the printer now.
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-foo-bar', password: 'foo-bar-pw', clientId: 'printwire-relay-venue-foo-bar' })).toBe(5)
    const serving = await tryLogin(broker.mqttUrl, { username: 'relay-foo-bar', password: 'foo-bar-pw', clientId: 'printwire-relay:venue:foo-bar' }) as TestClient
    await serving.subscribe('printers/foo-bar/jobs')
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-foo-bar', password: 'foo-bar-pw', clientId: 'printwire-relay-venue-foo-bar' })).toBeInstanceOf(TestClient)
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-bar', password: PASSWORDS['relay-bar'], clientId: 'printwire-relay-venue-foo-bar' })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-bar', password: PASSWORDS['relay-bar'], clientId: 'printwire-relay-bar' })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-lobby', password: PASSWORDS['relay-lobby'], clientId: id })).toBeInstanceOf(TestClient)
    expect(await tryLogin(broker.mqttUrl, { username: 'ops', password: PASSWORDS.ops, clientId: 'printwire-relay-venue-foo-bar' })).toBeInstanceOf(TestClient)
  })

  it('binds a persistent client id to its user: another user is refused, and the session and its queue stay intact', async () => {
    const broker = cleanup.add(await startBroker({ AUTH_FILE: await authFileWithUsers() }))
    const ops = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'ops', password: PASSWORDS.ops }))
    const boxOffice = await TestClient.connect(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice, clientId: 'box-office-1', clean: false })
    await boxOffice.subscribe('printers/lobby/responses')
    await boxOffice.stop()
    for (let i = 0; i < 5; i++) await ops.publish('printers/lobby/responses', JSON.stringify({ jobId: `queued-${i}` }))

    for (const clean of [false, true]) {
      expect(await tryLogin(broker.mqttUrl, { username: 'bob', password: PASSWORDS.bob, clientId: 'box-office-1', clean })).toBe(2)
    }
    // Even a relay user of the same printer, and even while the owner is connected.
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-lobby', password: PASSWORDS['relay-lobby'], clientId: 'box-office-1', clean: false })).toBe(2)

    const back = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice, clientId: 'box-office-1', clean: false }))
    expect(back.client.connected).toBe(true)
    await back.waitFor(() => back.messages.length >= 5, 5_000, 'the 5 queued results')
    expect(back.messages.map((m) => m.json?.jobId)).toEqual(['queued-0', 'queued-1', 'queued-2', 'queued-3', 'queued-4'])
  })

  it('does not let another user knock a connected client off by reusing its id', async () => {
    const broker = cleanup.add(await startBroker({ AUTH_FILE: await authFileWithUsers() }))
    const page = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice, clientId: 'page-1' }))
    expect(await tryLogin(broker.mqttUrl, { username: 'bob', password: PASSWORDS.bob, clientId: 'page-1' })).toBe(2)
    await page.subscribe('printers/lobby/status')
    expect(page.client.connected).toBe(true)
  })

  it('refuses a log-in whose Last Will the user may not publish, so it can never be published', async () => {
    const broker = cleanup.add(await startBroker({ AUTH_FILE: await authFileWithUsers() }))
    const will = { topic: 'printers/bar/jobs', payload: Buffer.from('<RC1,1>will-on-bar<p>'), qos: 1 as const, retain: false }
    expect(await tryLogin(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice, will })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice, will: { ...will, topic: 'printers/lobby/status' } })).toBe(5)
    expect(await tryLogin(broker.mqttUrl, { username: 'relay-bar', password: PASSWORDS['relay-bar'], will: { ...will, topic: 'printers/bar/status' } })).toBeInstanceOf(TestClient)
  })

  it('applies `printwire user add|remove` while running: a new user logs in, a removed one is disconnected', async () => {
    const file = await authFileWithUsers()
    const broker = cleanup.add(await startBroker({ AUTH_FILE: file }))
    const alice = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
    expect(await tryLogin(broker.mqttUrl, { username: 'dave', password: 'dave-pw' })).toBe(4)

    await addUser(file, 'dave', { password: 'dave-pw', role: 'client', printers: 'lobby' })
    await expect.poll(async () => (await tryLogin(broker.mqttUrl, { username: 'dave', password: 'dave-pw' })) instanceof TestClient, { timeout: 5_000, interval: 100 }).toBe(true)

    const closed = new Promise<void>((resolve) => alice.client.once('close', () => resolve()))
    await removeUser(file, 'alice')
    await closed
    expect(await tryLogin(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice })).toBe(4)
  })

  it('keeps the loaded users when AUTH_FILE changes into something invalid, and says so', async () => {
    const file = await authFileWithUsers()
    const lines: Array<{ msg: string, users?: number }> = []
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line)) } })
    const access = cleanup.add(new AccessControl({ file, topicPrefix: 'printers', logger }))
    await access.start()
    const valid = await readFile(file)
    await writeFile(file, '{"users": {"eve": {"password": "plain", "role": "client", "printers": ["lobby"]}}}')
    await expect.poll(() => lines.map((l) => l.msg), { timeout: 5_000 }).toContain('AUTH_FILE changed but is not valid: keeping the users already loaded')
    expect((await access.login('alice', Buffer.from(PASSWORDS.alice), 'x')).ok).toBe(true)
    expect((await access.login('eve', Buffer.from('plain'), 'x')).ok).toBe(false)
    await writeFile(file, valid)
    await addUser(file, 'eve', { password: 'eve-pw', role: 'client', printers: 'lobby' })
    await expect.poll(async () => (await access.login('eve', Buffer.from('eve-pw'), 'x')).ok, { timeout: 5_000, interval: 100 }).toBe(true)
  })

  it('checks the password of many identical log-ins arriving together once, and remembers it', async () => {
    const access = cleanup.add(new AccessControl({ file: await authFileWithUsers(), topicPrefix: 'printers', logger: pino({ level: 'silent' }) }))
    await access.start()
    const logins = await Promise.all(Array.from({ length: 50 }, (_, i) => access.login('relay-lobby', Buffer.from(PASSWORDS['relay-lobby']), `printwire-relay:r${i}:lobby`)))
    expect(logins.every((l) => l.ok)).toBe(true)
    expect(access.passwordChecks).toBe(1)
    expect((await access.login('relay-lobby', Buffer.from(PASSWORDS['relay-lobby']), 'x')).ok).toBe(true)
    expect((await access.login('relay-lobby', Buffer.from('wrong'), 'x')).ok).toBe(false)
    expect(access.passwordChecks).toBe(2)
  })

  it('refuses to start with an AUTH_FILE that is missing or invalid, naming the problem', async () => {
    const dir = await tempDir(cleanup)
    await expect(startBroker({ AUTH_FILE: `${dir}/none.json` })).rejects.toMatchObject({ code: 'INVALID_AUTH_FILE', message: expect.stringMatching(/does not exist.*printwire user add/) })
    await writeFile(`${dir}/bad.json`, '{"users": {"eve": {"password": "plain", "role": "boss", "printers": []}}}')
    await expect(startBroker({ AUTH_FILE: `${dir}/bad.json` })).rejects.toMatchObject({
      code: 'INVALID_AUTH_FILE',
      message: expect.stringMatching(/users\.eve\.password.*users\.eve\.role.*users\.eve\.printers/s)
    })
  })

  it('validates access and TLS settings together, naming each variable', () => {
    expect(() => loadBrokerConfig({ AUTH_FILE: 'auth.json', ALLOW_ANONYMOUS: 'true' })).toThrow(/ALLOW_ANONYMOUS: cannot be true with AUTH_FILE/)
    expect(() => loadBrokerConfig({ TLS_CERT: 'cert.pem' })).toThrow(/TLS_KEY: TLS_CERT and TLS_KEY must be set together/)
    expect(() => loadBrokerConfig({ TLS_KEY: 'key.pem' })).toThrow(/TLS_CERT: TLS_CERT and TLS_KEY must be set together/)
    const anonymous = loadBrokerConfig({ LISTEN_HOST: '0.0.0.0' })
    expect([listenHost(anonymous), plainMqttHost(anonymous)]).toEqual(['127.0.0.1', '127.0.0.1'])
    const withUsers = loadBrokerConfig({ AUTH_FILE: 'auth.json' })
    expect([listenHost(withUsers), plainMqttHost(withUsers)]).toEqual(['0.0.0.0', '0.0.0.0'])
    const withTls = loadBrokerConfig({ AUTH_FILE: 'auth.json', TLS_CERT: 'c', TLS_KEY: 'k' })
    expect([listenHost(withTls), plainMqttHost(withTls)]).toEqual(['0.0.0.0', '127.0.0.1'])
  })
})

describe('TLS', () => {
  /** A self-signed certificate for localhost and 127.0.0.1, made with Debian's openssl. */
  async function makeCertificate (): Promise<{ cert: string, key: string }> {
    const dir = await tempDir(cleanup)
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`,
      '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'])
    return { cert: `${dir}/cert.pem`, key: `${dir}/key.pem` }
  }

  it('serves mqtts://, https:// and wss://; a relay and a client print through them; an untrusted certificate is refused', async () => {
    const tls = await makeCertificate()
    const ca = await readFile(tls.cert)
    const started = cleanup.add(await startBroker({ AUTH_FILE: await authFileWithUsers(), LISTEN_HOST: '127.0.0.1', TLS_CERT: tls.cert, TLS_KEY: tls.key, MQTTS_PORT: '0' }))
    const mqttsUrl = `mqtts://localhost:${started.broker.mqttsPort}`
    const wssUrl = `wss://localhost:${started.broker.httpPort}/mqtt`

    const lobby = cleanup.add(await startPrinter())
    const relayOptions = { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'], MQTT_CA_FILE: tls.cert }
    cleanup.add(await startRelay(relayEnv(mqttsUrl, { lobby }, await tempDir(cleanup), relayOptions)))

    const alice = cleanup.add(await TestClient.connect(wssUrl, { username: 'alice', password: PASSWORDS.alice, ca }))
    await alice.subscribe('printers/lobby/responses', 'printers/lobby/status')
    await alice.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'over-tls', data: '<RC1,1>over tls<p>' }))
    expect((await alice.outcome('lobby', 'over-tls')).json.status).toBe('printed')

    const page = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      request(`https://localhost:${started.broker.httpPort}/`, { ca }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      }).on('error', reject).end()
    })
    expect(page.status).toBe(200)
    expect(page.body).toContain('<title>Printwire</title>')

    expect(String(await tryLogin(mqttsUrl, { username: 'alice', password: PASSWORDS.alice }))).toMatch(/SELF_SIGNED|self-signed/)
    expect(await tryLogin(`mqtt://127.0.0.1:${started.broker.mqttPort}`, { username: 'alice', password: PASSWORDS.alice })).toBeInstanceOf(TestClient)
  })

  it('refuses to start when the certificate cannot be read or does not match the key', async () => {
    const tls = await makeCertificate()
    const other = await makeCertificate()
    await expect(startBroker({ TLS_CERT: `${tls.cert}.missing`, TLS_KEY: tls.key })).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/TLS_CERT: cannot read/) })
    await expect(startBroker({ TLS_CERT: tls.cert, TLS_KEY: other.key })).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/TLS_CERT\/TLS_KEY: not a usable/) })
  })
})
