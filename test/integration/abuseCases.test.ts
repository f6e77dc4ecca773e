/**
 * Abuse and edge cases of the hardening (issue #10), found by an adversarial pass: each test states a promise of
 * README/SPEC and failed while it was broken. One relay per printer (races, wildcards, other client ids, two
 * broker instances on one Redis, a relay refused once), queue limits (shared counts, QoS 2, other relay ids),
 * retained jobs and retained server/time, client ids across broker instances and after AUTH_FILE changes, log
 * clipping, and ACKs counted against tickets.
 */
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { startRedis } from '../../harness/redisServer.ts'
import { leaveSession } from '../../harness/brokerProcess.ts'
import { startMosquitto } from '../../harness/mosquittoBroker.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { addUser, removeUser } from '../../cli/userCommand.ts'
import { captureLog } from '../../harness/logCapture.ts'
import { PrintwireBroker } from '../../broker/mqttBroker.ts'
import { loadBrokerConfig } from '../../broker/config.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function relaySession (url: string, relayId: string, printerId: string): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `printwire-relay:${relayId}:${printerId}`, clean: false, reconnectPeriod: 0 })
  cleanup.defer(() => client.endAsync(true))
  return client
}

describe('one relay per printer', () => {
  it.each(['memory', 'level'])('grants a printer\'s jobs to only one of two relays that subscribe at the same moment (%s)', async (persistence) => {
    const broker = cleanup.add(await startBroker({ PERSISTENCE: persistence, DATA_DIR: await tempDir(cleanup) }))
    const a = await relaySession(broker.mqttUrl, 'venue-a', 'lobby')
    const b = await relaySession(broker.mqttUrl, 'venue-b', 'lobby')
    // Both SUBSCRIBEs leave together; the broker answers one with SUBACK 0x80 (mqtt.js rejects it).
    const results = await Promise.allSettled([
      a.subscribeAsync('printers/lobby/jobs', { qos: 1 }),
      b.subscribeAsync('printers/lobby/jobs', { qos: 1 })
    ])
    const granted = results.filter((r) => r.status === 'fulfilled')
    // Both granted: every job of `lobby` then reaches both relays and prints twice.
    const publisher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    const seen: string[] = []
    a.on('message', () => seen.push('a'))
    b.on('message', () => seen.push('b'))
    await publisher.publish('printers/lobby/jobs', JSON.stringify({ id: 'race-1', data: 'x<p>' }))
    await expect.poll(() => seen.length).toBeGreaterThan(0)
    expect({ granted: granted.length, deliveredTo: seen }).toEqual({ granted: 1, deliveredTo: [expect.any(String)] })
  })

  it('grants a printer\'s jobs to only one of two relays that subscribe at the same moment through two brokers on one Redis', async () => {
    const redis = cleanup.add(await startRedis())
    const one = cleanup.add(await startBroker({ PERSISTENCE: 'redis', REDIS_URL: redis.url }))
    const two = cleanup.add(await startBroker({ PERSISTENCE: 'redis', REDIS_URL: redis.url }))
    const a = await relaySession(one.mqttUrl, 'venue-a', 'lobby')
    const b = await relaySession(two.mqttUrl, 'venue-b', 'lobby')
    const results = await Promise.allSettled([
      a.subscribeAsync('printers/lobby/jobs', { qos: 1 }),
      b.subscribeAsync('printers/lobby/jobs', { qos: 1 })
    ])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
  })
})

/** A broker with MAX_QUEUED_JOBS 3, relay `venue`'s session of lobby subscribed and away, and a client reading lobby's errors. */
async function queueOfThreeForAwayRelay (): Promise<{ broker: Awaited<ReturnType<typeof startBroker>>, client: TestClient }> {
  const broker = cleanup.add(await startBroker({ MAX_QUEUED_JOBS: '3' }))
  await leaveSession(broker.mqttUrl, 'printwire-relay:venue:lobby', ['printers/lobby/jobs'])
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/lobby/errors')
  return { broker, client }
}

describe('queue limits at the broker', () => {
  it('lets a printer served through another broker on the same Redis take more jobs than MAX_QUEUED_JOBS over time (the count goes down again)', async () => {
    const redis = cleanup.add(await startRedis())
    const front = cleanup.add(await startBroker({ PERSISTENCE: 'redis', REDIS_URL: redis.url, MAX_QUEUED_JOBS: '3' }))
    const back = cleanup.add(await startBroker({ PERSISTENCE: 'redis', REDIS_URL: redis.url, MAX_QUEUED_JOBS: '3' }))
    const sim = cleanup.add(await startPrinter())
    // The relay on one broker instance, the box office on the other: the usual scale-out.
    cleanup.add(await startRelay(relayEnv(back.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'venue' })))
    const client = cleanup.add(await TestClient.connect(front.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    // One job at a time, each printed before the next: never more than one waits.
    for (let i = 1; i <= 5; i++) {
      await client.publish('printers/lobby/jobs', JSON.stringify({ id: `s-${i}`, data: `<RC1,1>s-${i}<p>` }))
      expect((await client.outcome('lobby', `s-${i}`)).json).toMatchObject({ status: 'printed' })
    }
  })

  it('keeps counting a printer\'s queued jobs when another relay id of that printer connects with a new session', async () => {
    const { broker, client } = await queueOfThreeForAwayRelay()
    for (let i = 1; i <= 3; i++) await client.publish('printers/lobby/jobs', JSON.stringify({ id: `r-${i}`, data: 'x<p>' }))
    // Another relay (a refused second one, or anyone with a relay id of lobby) connects once with a new session.
    const passer = await mqtt.connectAsync(broker.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay:passer-by:lobby', clean: true, reconnectPeriod: 0 })
    await passer.endAsync()
    // venue's session still holds r-1..r-3: r-4 goes over MAX_QUEUED_JOBS 3.
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'r-4', data: 'x<p>' }))
    expect((await client.outcome('lobby', 'r-4', 3000)).json.code).toBe('QUEUE_FULL')
  })

  it('counts QoS 2 jobs against MAX_QUEUED_JOBS like QoS 1 ones', async () => {
    const { broker, client } = await queueOfThreeForAwayRelay()
    for (let i = 1; i <= 6; i++) await client.publish('printers/lobby/jobs', JSON.stringify({ id: `q2-${i}`, data: 'x<p>' }), { qos: 2 })
    // Jobs 4-6 go over MAX_QUEUED_JOBS 3: each must be answered QUEUE_FULL (and not queued).
    for (const id of ['q2-4', 'q2-5', 'q2-6']) expect((await client.outcome('lobby', id, 3000)).json.code).toBe('QUEUE_FULL')
  })
})

describe('retained jobs on Mosquitto', () => {
  it('never answers a job both printed and INVALID_JOB ("it was not printed") when it was published retained while the relay was online', async () => {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    const mosquitto = cleanup.add(await startMosquitto(authFile, dir))
    const sim = cleanup.add(await startPrinter())
    const alice = cleanup.add(await TestClient.connect(mosquitto.mqttUrl, { username: 'alice', password: PASSWORDS.alice }))
    await alice.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    const relayCredentials = { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] }
    const first = await startRelay(relayEnv(mosquitto.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'first', ...relayCredentials }))
    await alice.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.relayId === 'first' && m.json?.state === 'online')
    // Retained by mistake, while the relay is online: Mosquitto forwards it live (retain flag cleared).
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'live-retained', data: '<RC1,1>live-retained<p>' }), { retain: true })
    const firstOutcome = await alice.outcome('lobby', 'live-retained')
    await first.stop()
    // The printer moves to another relay (README "Moving a printer"): a new relay session.
    const second = cleanup.add(await startRelay(relayEnv(mosquitto.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'second', ...relayCredentials })))
    await alice.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.relayId === 'second' && m.json?.state === 'online')
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'fence', data: '<RC1,1>fence<p>' }))
    expect((await alice.outcome('lobby', 'fence')).json.status).toBe('printed')
    void second
    const outcomes = alice.messages.filter((m) => (m.topic === 'printers/lobby/responses' || m.topic === 'printers/lobby/errors') && m.json?.jobId === 'live-retained')
    const printed = sim.tickets.filter((t) => t.bytes.toString().includes('live-retained')).length
    // One story per job: either printed (once) or refused, never both.
    expect({ first: firstOutcome.json.status ?? firstOutcome.json.code, outcomes: outcomes.map((m) => m.json.status ?? m.json.code), printed })
      .toEqual({ first: firstOutcome.json.status ?? firstOutcome.json.code, outcomes: [firstOutcome.json.status ?? firstOutcome.json.code], printed: firstOutcome.json.status === 'printed' ? 1 : 0 })
  })
})

describe('one relay per printer, with AUTH_FILE', () => {
  async function brokerWithUsers (): Promise<string> {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    await addUser(authFile, 'relay-all', { password: 'relay-all-pw', role: 'relay', printers: '*' })
    return cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1' })).mqttUrl
  }

  async function servingRelay (url: string): Promise<mqtt.MqttClient> {
    const serving = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'printwire-relay:venue-a:lobby', clean: false, reconnectPeriod: 0, username: 'relay-lobby', password: PASSWORDS['relay-lobby'] })
    cleanup.defer(() => serving.endAsync(true))
    await serving.subscribeAsync('printers/lobby/jobs', { qos: 1 })
    return serving
  }

  it('refuses a relay user\'s second session on a printer\'s jobs when it uses a client id that is not a relay id', async () => {
    const url = await brokerWithUsers()
    await servingRelay(url)
    const other = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'my-own-relay', clean: false, reconnectPeriod: 0, username: 'relay-lobby', password: PASSWORDS['relay-lobby'] })
    cleanup.defer(() => other.endAsync(true))
    const result = await other.subscribeAsync('printers/lobby/jobs', { qos: 1 }).then(() => 'granted', () => 'refused')
    expect(result).toBe('refused')
  })

  it('lets a relay user read a printer\'s cancels only as its relay: under its relay client id, that exact topic', async () => {
    const url = await brokerWithUsers()
    const serving = await servingRelay(url)
    const subscribe = (client: mqtt.MqttClient, filter: string): Promise<string> => client.subscribeAsync(filter, { qos: 1 }).then(() => 'granted', () => 'refused')
    const other = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'my-own-relay', clean: false, reconnectPeriod: 0, username: 'relay-lobby', password: PASSWORDS['relay-lobby'] })
    cleanup.defer(() => other.endAsync(true))
    expect({
      own: await subscribe(serving, 'printers/lobby/cancel'),
      wildcard: await subscribe(serving, 'printers/+/cancel'),
      everything: await subscribe(serving, 'printers/lobby/#'),
      otherId: await subscribe(other, 'printers/lobby/cancel')
    }).toEqual({ own: 'granted', wildcard: 'refused', everything: 'refused', otherId: 'refused' })
  })

  it('refuses a relay of all printers a wildcard subscription to every printer\'s jobs while another relay serves one of them', async () => {
    const url = await brokerWithUsers()
    const serving = await servingRelay(url)
    const wide = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'printwire-relay:venue-b:bar', clean: false, reconnectPeriod: 0, username: 'relay-all', password: 'relay-all-pw' })
    cleanup.defer(() => wide.endAsync(true))
    const result = await wide.subscribeAsync('printers/+/jobs', { qos: 1 }).then(() => 'granted', () => 'refused')
    const seenBy: string[] = []
    serving.on('message', () => seenBy.push('venue-a'))
    wide.on('message', () => seenBy.push('venue-b'))
    const alice = cleanup.add(await TestClient.connect(url, { username: 'alice', password: PASSWORDS.alice }))
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'wide-1', data: 'x<p>' }))
    await expect.poll(() => seenBy.length).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect({ result, seenBy }).toEqual({ result: 'refused', seenBy: ['venue-a'] })
  })
})

describe('client ids across broker instances on one Redis (AUTH_FILE)', () => {
  it('does not let another user knock a connected client off by reusing its id on another broker instance', async () => {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    const redis = cleanup.add(await startRedis())
    const env = { AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1', PERSISTENCE: 'redis', REDIS_URL: redis.url }
    const one = cleanup.add(await startBroker(env))
    const two = cleanup.add(await startBroker(env))
    const page = cleanup.add(await TestClient.connect(one.mqttUrl, { username: 'alice', password: PASSWORDS.alice, clientId: 'page-1' }))
    let closed = false
    page.client.on('close', () => { closed = true })
    const intruder = await mqtt.connectAsync(two.mqttUrl, { protocolVersion: 4, clientId: 'page-1', reconnectPeriod: 0, username: 'bob', password: PASSWORDS.bob }).then((c) => { cleanup.defer(() => c.endAsync(true)); return 'accepted' }, (error: { code?: number }) => `refused ${error.code}`)
    // Whatever the answer to bob, alice's page stays connected.
    await page.subscribe('printers/lobby/status').catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect({ intruder, aliceKnockedOff: closed }).toEqual({ intruder: 'refused 2', aliceKnockedOff: false })
  })
})

describe('one relay per printer across broker instances on one Redis', () => {
  it('refuses a second relay process with the same RELAY_ID that connects through another broker instance', async () => {
    const redis = cleanup.add(await startRedis())
    const one = cleanup.add(await startBroker({ PERSISTENCE: 'redis', REDIS_URL: redis.url }))
    const two = cleanup.add(await startBroker({ PERSISTENCE: 'redis', REDIS_URL: redis.url }))
    const will = (instance: string): mqtt.IClientOptions['will'] => ({ topic: 'printers/lobby/status', payload: Buffer.from(JSON.stringify({ printerId: 'lobby', state: 'offline', relayId: 'twin', instance })), qos: 1, retain: true })
    const first = await mqtt.connectAsync(one.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay:twin:lobby', clean: false, reconnectPeriod: 0, will: will('box-1') })
    cleanup.defer(() => first.endAsync(true))
    let firstClosed = false
    first.on('close', () => { firstClosed = true })
    await first.subscribeAsync('printers/lobby/jobs', { qos: 1 })
    const second = await mqtt.connectAsync(two.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay:twin:lobby', clean: false, reconnectPeriod: 0, will: will('box-2') })
      .then((c) => { cleanup.defer(() => c.endAsync(true)); return 'accepted' }, (error: { code?: number }) => `refused ${error.code}`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect({ second, firstKnockedOff: firstClosed }).toEqual({ second: 'refused 2', firstKnockedOff: false })
  })
})

describe('the broker\'s time (server/time)', () => {
  it('is not taken from a stale retained server/time message', async () => {
    const broker = cleanup.add(await startBroker())
    // Someone allowed to (an admin, or anyone on the anonymous loopback broker) retains a wrong time by mistake.
    const admin = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await admin.publish('server/time', '2100-01-01T00:00:00.000Z', { retain: true })
    const sim = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'valid-for-a-minute', data: '<RC1,1>v<p>', expiresAt: new Date(Date.now() + 60_000).toISOString() }))
    expect((await client.outcome('lobby', 'valid-for-a-minute')).json).toMatchObject({ status: 'printed' })
  })
})

describe('client-supplied text in the broker\'s log', () => {
  it('clips the client id and topic of a logged-in client\'s refused subscription and refused publish', async () => {
    const log = captureLog('info')
    const authFile = `${await tempDir(cleanup)}/auth.json`
    await writeTestUsers(authFile)
    const broker = cleanup.add(new PrintwireBroker({ config: loadBrokerConfig({ PORT: '0', MQTT_PORT: '0', PERSISTENCE: 'memory', AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1' }), logger: log.logger }))
    await broker.start()
    const longId = 'c'.repeat(30_000)
    const longTopic = `printers/bar/${'t'.repeat(30_000)}`
    const alice = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.mqttPort}`, { protocolVersion: 4, clientId: longId, reconnectPeriod: 0, username: 'alice', password: PASSWORDS.alice })
    cleanup.defer(() => alice.endAsync(true))
    alice.on('error', () => {})
    await alice.subscribeAsync(longTopic, { qos: 1 }).catch(() => {})
    const closed = new Promise<void>((resolve) => alice.once('close', () => resolve()))
    alice.publish(longTopic, 'x', { qos: 1 })
    await closed
    await expect.poll(() => log.entries().some((e) => e.msg === 'publish refused: connection closed')).toBe(true)
    expect(log.text()).not.toContain('c'.repeat(200))
    expect(log.text()).not.toContain('t'.repeat(200))
  })
})

describe('a retained job left from before the upgrade (embedded broker)', () => {
  it('can be cleared with an empty retained publish, as README says for Mosquitto', async () => {
    const broker = cleanup.add(await startBroker())
    // As an earlier version stored it (it accepted retained jobs).
    const persistence = (broker.broker.broker as unknown as { persistence: { storeRetained(packet: object): Promise<void> } }).persistence
    await persistence.storeRetained({ cmd: 'publish', topic: 'printers/lobby/jobs', payload: Buffer.from(JSON.stringify({ id: 'old-retained', data: 'x<p>' })), qos: 1, retain: true, dup: false, brokerId: 'old', brokerCounter: 1 })
    const admin = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await admin.publish('printers/lobby/jobs', '', { retain: true })
    const fresh = cleanup.add(await TestClient.connect(broker.mqttUrl, { clientId: 'printwire-relay:new:lobby', clean: true }))
    await fresh.subscribe('printers/lobby/jobs')
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(fresh.messages.map((m) => m.text)).toEqual([])
  })
})

describe('ACKs counted against tickets sent', () => {
  it('does not answer `printed` for a 2-ticket job when a printer that ACKs twice (the second a moment later) printed only the first', async () => {
    // A device that acknowledges each ticket twice, the second ACK in its own TCP segment a few ms later, and
    // is out of paper after the first ticket: it never acknowledges the second.
    const printed: string[] = []
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
      let buffered = ''
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1')
        let end: number
        while ((end = buffered.indexOf('<p>')) !== -1) {
          const ticket = buffered.slice(0, end + 3)
          buffered = buffered.slice(end + 3)
          if (printed.length === 0) {
            printed.push(ticket)
            socket.write(Buffer.from([0x06]))
            setTimeout(() => { if (socket.writable) socket.write(Buffer.from([0x06])) }, 30)
          } else {
            setTimeout(() => { if (socket.writable) socket.write(Buffer.from([0x10])) }, 100)
          }
        }
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanup.defer(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) }))
    const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`
    const broker = cleanup.add(await startBroker())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: address }, await tempDir(cleanup))))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'two-tickets', data: 'one<p>two<p>' }))
    const outcome = await client.outcome('lobby', 'two-tickets')
    expect(printed).toHaveLength(1)
    expect(outcome.json.status).not.toBe('printed')
  })
})

describe('client id ownership when users change (AUTH_FILE)', () => {
  it('lets the new relay user of a printer use the relay\'s client id once the user who owned it is removed', async () => {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1' }))
    const clientId = 'printwire-relay:venue:lobby'
    const old = await mqtt.connectAsync(broker.mqttUrl, { protocolVersion: 4, clientId, clean: false, reconnectPeriod: 0, username: 'relay-lobby', password: PASSWORDS['relay-lobby'] })
    await old.subscribeAsync('printers/lobby/jobs', { qos: 1 })
    await old.endAsync()
    // The venue's relay gets a user of its own (credentials rotated): the old user goes.
    await addUser(authFile, 'venue-relay', { password: 'venue-relay-pw', role: 'relay', printers: 'lobby' })
    await removeUser(authFile, 'relay-lobby')
    const login = async (): Promise<string> => await mqtt.connectAsync(broker.mqttUrl, { protocolVersion: 4, clientId, clean: false, reconnectPeriod: 0, username: 'venue-relay', password: 'venue-relay-pw' })
      .then(async (c) => { await c.endAsync(); return 'accepted' }, (error: { code?: number }) => `refused ${error.code}`)
    // (Refused with 4 until the broker has reloaded AUTH_FILE.)
    await expect.poll(login, { timeout: 5000, interval: 200 }).not.toBe('refused 4')
    expect(await login()).toBe('accepted')
  })
})

describe('a relay that was once refused a printer (one relay per printer)', () => {
  it('serves the printer after a restart, once the other relay is gone', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/status', 'printers/lobby/responses', 'printers/lobby/errors')
    const a = await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'venue-a' }))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.relayId === 'venue-a' && m.json?.state === 'online')
    const bDir = await tempDir(cleanup)
    const b1 = await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, bDir, { RELAY_ID: 'venue-b' }))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.relayId === 'venue-b' && m.json?.state === 'error')
    await b1.stop()
    // The operator keeps venue-b: stops venue-a and ends its session (README "Moving a printer"), restarts venue-b.
    await a.stop()
    const end = await mqtt.connectAsync(broker.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay:venue-a:lobby', clean: true, reconnectPeriod: 0 })
    await end.endAsync()
    client.messages.length = 0
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, bDir, { RELAY_ID: 'venue-b' })))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.relayId === 'venue-b' && m.json?.state === 'online')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'after-move', data: '<RC1,1>after-move<p>' }))
    expect((await client.outcome('lobby', 'after-move', 10_000)).json.status).toBe('printed')
  })
})

describe('retained jobs at QoS 2 and QoS 0 (embedded broker)', () => {
  it.each([0, 2] as const)('refuses a retained job at QoS %i like one at QoS 1', async (qos) => {
    const broker = cleanup.add(await startBroker())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/errors')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: `retained-q${qos}`, data: 'x<p>' }), { qos, retain: true })
    expect((await client.outcome('lobby', `retained-q${qos}`)).json.code).toBe('INVALID_JOB')
    const fresh = cleanup.add(await TestClient.connect(broker.mqttUrl, { clientId: 'printwire-relay:fresh:lobby', clean: true }))
    await fresh.subscribe('printers/lobby/jobs')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(fresh.messages).toEqual([])
  })
})
