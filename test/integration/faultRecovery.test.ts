/**
 * Recovery after faults, from a second adversarial pass over the hardening (issue #10): each test states a
 * promise of README and failed while it was broken. Queue counts at the broker go down again (QoS 2 resends, a
 * printer moved to another relay, a broker SIGKILL mid-burst with Redis), a relay refused at log-in keeps trying,
 * the upgrade from the earlier relay client id survives a broker restart and cannot be abused, and a Redis outage
 * leaves no stale connected client behind.
 */
import net from 'node:net'
import { access } from 'node:fs/promises'
import path from 'node:path'
import { connectedClients } from '../../broker/aedes/internals.ts'
import { afterEach, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { addUser } from '../../cli/userCommand.ts'
import { startRedis } from '../../harness/redisServer.ts'
import { leaveSession } from '../../harness/brokerProcess.ts'
import { leaveEarlierRelaySession } from '../../harness/earlierVersion.ts'
import { PartProcess } from '../../harness/processes.ts'
import { Redis } from 'ioredis'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** A bare MQTT 3.1.1 connection that sends exactly the packets it is given (no retransmission logic of its own). */
async function rawMqtt (port: number, clientId: string): Promise<{ send(packet: object): void, received: Array<{ cmd: string, messageId?: number }>, close(): void }> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  const received: Array<{ cmd: string, messageId?: number }> = []
  parser.on('packet', (packet: { cmd: string, messageId?: number }) => received.push(packet))
  socket.on('data', (chunk) => parser.parse(chunk))
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const send = (packet: object): void => { socket.write(mqttPacket.generate(packet as mqttPacket.Packet, { protocolVersion: 4 })) }
  send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 60 })
  await expect.poll(() => received.some((p) => p.cmd === 'connack')).toBe(true)
  cleanup.defer(() => { socket.destroy() })
  return { send, received, close: () => socket.destroy() }
}

describe('queue counts at the broker go down again', () => {
  it('does not count a QoS 2 job again for each retransmission of its PUBLISH (MQTT DUP): the printer keeps its MAX_QUEUED_JOBS', async () => {
    const broker = cleanup.add(await startBroker({ MAX_QUEUED_JOBS: '3' }))
    const sim = cleanup.add(await startPrinter())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    const env = relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))
    const relay = await startRelay(env)
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    // One QoS 2 job whose PUBLISH goes out three times (a publisher that did not see PUBREC sends it again with
    // DUP set, as MQTT 3.1.1 says it must), then PUBREL: MQTT makes it one message, delivered once.
    const raw = await rawMqtt(Number(new URL(broker.mqttUrl).port), 'box-office-q2')
    const publish = { cmd: 'publish', topic: 'printers/lobby/jobs', payload: Buffer.from(JSON.stringify({ id: 'q2-once', data: '<RC1,1>q2<p>' })), qos: 2, messageId: 7, retain: false }
    raw.send({ ...publish, dup: false })
    raw.send({ ...publish, dup: true })
    raw.send({ ...publish, dup: true })
    await expect.poll(() => raw.received.filter((p) => p.cmd === 'pubrec').length).toBe(3)
    raw.send({ cmd: 'pubrel', messageId: 7 })
    await client.waitFor((m) => m.json?.jobId === 'q2-once' && m.json?.status === 'printed')
    await expect.poll(() => raw.received.some((p) => p.cmd === 'pubcomp')).toBe(true)
    // Nothing waits for the relay now. It goes away: MAX_QUEUED_JOBS (3) jobs may wait for it.
    await relay.stop()
    for (let i = 1; i <= 3; i++) await client.publish('printers/lobby/jobs', JSON.stringify({ id: `wait-${i}`, data: `<RC1,1>wait-${i}<p>` }))
    cleanup.add(await startRelay(env))
    const outcomes = await Promise.all([1, 2, 3].map(async (i) => (await client.outcome('lobby', `wait-${i}`)).json.status ?? (await client.outcome('lobby', `wait-${i}`)).json.code))
    expect(outcomes).toEqual(['printed', 'printed', 'printed'])
  })

  it('never answers QUEUE_FULL ("never printed") for a QoS 2 job it has queued, when the job\'s PUBLISH is sent again (DUP)', async () => {
    const broker = cleanup.add(await startBroker({ MAX_QUEUED_JOBS: '2' }))
    const env = relayEnv(broker.mqttUrl, { lobby: cleanup.add(await startPrinter()) }, await tempDir(cleanup))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    // The relay has a session and is away (gone from the broker's point of view too).
    const before = await startRelay(env)
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    await before.stop()
    await expect.poll(() => connectedClients(broker.broker.broker)['printwire-relay:test-relay:lobby']).toBeUndefined()
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'first', data: '<RC1,1>first<p>' }))
    // The second job, at QoS 2, fits (2 of 2) and is queued; its PUBLISH is sent again before PUBREC, as MQTT
    // says a publisher must when it did not see PUBREC.
    const raw = await rawMqtt(Number(new URL(broker.mqttUrl).port), 'box-office-q2')
    const publish = { cmd: 'publish', topic: 'printers/lobby/jobs', payload: Buffer.from(JSON.stringify({ id: 'second', data: '<RC1,1>second<p>' })), qos: 2, messageId: 9, retain: false }
    raw.send({ ...publish, dup: false })
    raw.send({ ...publish, dup: true })
    await expect.poll(() => raw.received.filter((p) => p.cmd === 'pubrec').length).toBe(2)
    raw.send({ cmd: 'pubrel', messageId: 9 })
    cleanup.add(await startRelay(env))
    await client.waitFor((m) => m.json?.jobId === 'second' && m.json?.status === 'printed')
    await client.waitFor((m) => m.json?.jobId === 'first' && m.json?.status === 'printed')
    // One answer for the job: printed. Not QUEUE_FULL ("not queued ... send it again later") as well.
    expect(client.messages.filter((m) => m.json?.jobId === 'second').map((m) => m.json.status ?? m.json.code)).toEqual(['printed'])
  })

  it('starts the count of a printer moved to another relay as README says (old session ended with a clean connection) from what is queued for the new one', async () => {
    const broker = cleanup.add(await startBroker({ MAX_QUEUED_JOBS: '3' }))
    // The old relay served lobby, then went away with jobs queued for it.
    const old = await mqtt.connectAsync(broker.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay:venue-old:lobby', clean: false, reconnectPeriod: 0 })
    await old.subscribeAsync('printers/lobby/jobs', { qos: 1 })
    await old.endAsync()
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    for (let i = 1; i <= 3; i++) await client.publish('printers/lobby/jobs', JSON.stringify({ id: `stale-${i}`, data: 'x<p>' }))
    // README "Moving a printer to another relay": end the old session with a clean connection under its id
    // (its queued jobs go with it), then start the new relay.
    const ender = await mqtt.connectAsync(broker.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay:venue-old:lobby', clean: true, reconnectPeriod: 0 })
    await ender.endAsync()
    const sim = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'venue-new' })))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online' && m.json?.relayId === 'venue-new')
    // Nothing waits for venue-new: its jobs must print.
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'moved-1', data: '<RC1,1>moved-1<p>' }))
    expect((await client.outcome('lobby', 'moved-1')).json).toMatchObject({ status: 'printed' })
  })
})

describe('a relay refused at log-in (CONNACK 2: another process of its RELAY_ID is connected)', () => {
  it('keeps retrying, as it logs, and serves the printer once the other process is gone', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/status', 'printers/lobby/responses', 'printers/lobby/errors')
    // The same RELAY_ID twice: a relay restarted (a new process) while the broker still holds the old one's
    // connection (over a LAN, until its keepalive runs out), or a box replaced while the old one still runs.
    const first = await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'twin' }))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
    const second = cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { RELAY_ID: 'twin' })))
    const refused = new Promise<void>((resolve) => broker.broker.broker.on('connackSent', (packet: { returnCode?: number }) => { if (packet.returnCode === 2) resolve() }))
    await refused
    // The first process goes away: the second, which says it is retrying, must take over and print.
    await first.stop()
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'after-takeover', data: '<RC1,1>after-takeover<p>' }))
    const outcome = await client.outcome('lobby', 'after-takeover', 20_000).then((m) => m.json.status as string, () => 'never answered')
    expect({ outcome, pending: second.pending() }).toEqual({ outcome: 'printed', pending: { lobby: 0 } })
  }, 60_000)
})

describe('the session of an earlier relay version (upgrade), across a broker restart', () => {
  it('is still ended, and the relay still stops, when the broker restarts while the relay takes what was queued there', async () => {
    const dataDir = await tempDir(cleanup)
    const env = { PERSISTENCE: 'level', DATA_DIR: dataDir, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    // What a relay of the earlier version left: a session under the earlier id, subscribed, with jobs queued.
    const first = await startBroker(env)
    const earlier = await mqtt.connectAsync(first.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay-venue-lobby', clean: false, reconnectPeriod: 0 })
    await earlier.subscribeAsync('printers/lobby/jobs', { qos: 1 })
    await earlier.endAsync()
    const publisher = await mqtt.connectAsync(first.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 })
    for (let i = 1; i <= 20; i++) await publisher.publishAsync('printers/lobby/jobs', JSON.stringify({ id: `old-${i}`, data: `<RC1,1>old-${i}<p>` }), { qos: 1 })
    await publisher.endAsync()
    // The upgraded relay starts; the broker restarts (SIGTERM, an upgrade of its own) while the relay is connected
    // under the earlier id to take those jobs.
    const drainStarted = new Promise<void>((resolve) => first.broker.broker.on('client', (client) => { if (client.id === 'printwire-relay-venue-lobby') resolve() }))
    const sim = cleanup.add(await startPrinter())
    const stateDir = await tempDir(cleanup)
    const relay = await startRelay(relayEnv(first.mqttUrl, { lobby: sim }, stateDir, { RELAY_ID: 'venue' }))
    await drainStarted
    await first.stop()
    const broker = cleanup.add(await startBroker(env))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors')
    // README: the relay takes what is still queued there and ends that session, so the broker stops queuing for
    // it (a session left subscribed queues every job again, to be printed a second time at the next start).
    const ended = await expect.poll(async () => await access(path.join(stateDir, 'legacy-session-ended-lobby')).then(() => true, () => false), { timeout: 20_000 }).toBe(true).then(() => true, () => false)
    // And the relay stops when asked (SIGTERM), rather than waiting for ever on the earlier session.
    const stopped = await Promise.race([relay.stop().then(() => 'stopped'), new Promise((resolve) => setTimeout(() => resolve('still stopping after 20 s'), 20_000))])
    expect({ ended, stopped }).toEqual({ ended: true, stopped: 'stopped' })
  }, 90_000)
})

describe('the earlier relay client id rule (access/accessControl.ts, mayUseClientId)', () => {
  it('does not let the relay user of `bar` wipe the earlier session of printer `foo-bar` that a relay of all printers (`*`) served', async () => {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    // A relay user of every printer: `foo-bar` is one of its printers, but no entry of AUTH_FILE names it.
    await addUser(authFile, 'venue-all', { password: 'venue-all-pw', role: 'relay', printers: '*' })
    // What the earlier version left: venue-all's relay session for foo-bar under the earlier id, with 2 jobs.
    await leaveEarlierRelaySession(dir, 'venue', 'foo-bar', ['fb-1', 'fb-2'])

    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, PERSISTENCE: 'level', DATA_DIR: dir }))
    // The relay user of bar, with the earlier id of venue's foo-bar session and a clean session: README says it
    // cannot take that id while a printer foo-bar exists.
    const intruder = await mqtt.connectAsync(broker.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay-venue-foo-bar', clean: true, reconnectPeriod: 0, username: 'relay-bar', password: PASSWORDS['relay-bar'] }).then(async (c) => { await c.endAsync(); return 'accepted' }, (error: { code?: number }) => `refused (CONNACK ${error.code})`)
    // The upgraded relay of all printers starts and takes what its earlier session held.
    const ops = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'ops', password: PASSWORDS.ops }))
    await ops.subscribe('printers/foo-bar/responses', 'printers/foo-bar/errors')
    const sim = cleanup.add(await startPrinter())
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { 'foo-bar': sim }, await tempDir(cleanup), { RELAY_ID: 'venue', MQTT_USERNAME: 'venue-all', MQTT_PASSWORD: 'venue-all-pw' })))
    const printed = await Promise.all(['fb-1', 'fb-2'].map((id) => ops.outcome('foo-bar', id, 10_000).then((m) => m.json.status as string, () => 'never answered')))
    expect({ intruder, printed }).toEqual({ intruder: expect.stringMatching(/^refused/), printed: ['printed', 'printed'] })
  }, 60_000)
})

describe('client ids across broker instances on one Redis, after a Redis outage', () => {
  it('lets a relay process that restarted back in through another broker instance once its earlier connection is gone', async () => {
    const redis = cleanup.add(await startRedis({ dir: await tempDir(cleanup) }))
    // Broker processes, as they run: what a dependency rejects during the outage is theirs (runtime/lifecycle.ts).
    const brokerAt = async (): Promise<{ mqttUrl: string, part: PartProcess }> => {
      const env = { PERSISTENCE: 'redis', REDIS_URL: redis.url, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
      const part = cleanup.add(new PartProcess('broker/main.ts', env))
      await part.waitForLog('broker listening')
      return { mqttUrl: `mqtt://127.0.0.1:${env.MQTT_PORT}`, part }
    }
    const one = await brokerAt()
    const two = await brokerAt()
    const will = (instance: string): mqtt.IClientOptions['will'] => ({ topic: 'printers/lobby/status', payload: Buffer.from(JSON.stringify({ printerId: 'lobby', state: 'offline', relayId: 'venue', instance })), qos: 1, retain: true })
    const first = await mqtt.connectAsync(one.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay:venue:lobby', clean: false, reconnectPeriod: 0, will: will('run-1') })
    await first.subscribeAsync('printers/lobby/jobs', { qos: 1 })
    // Redis restarts (an upgrade, a failover); the relay's connection ends while it is away (the relay restarts).
    await redis.kill()
    await first.endAsync(true)
    await new Promise((resolve) => setTimeout(resolve, 2000))
    await redis.restart()
    // The restarted relay process (a new instance) reaches the other broker instance. Its earlier connection is
    // closed, so it must be let in (it is not a second relay process); retried as the relay retries.
    let answer = 'not tried'
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      answer = await mqtt.connectAsync(two.mqttUrl, { protocolVersion: 4, clientId: 'printwire-relay:venue:lobby', clean: false, reconnectPeriod: 0, connectTimeout: 5000, will: will('run-2') })
        .then(async (c) => { await c.endAsync(true); return 'accepted' }, (error: { code?: number, message?: string }) => `refused ${error.code ?? error.message}`)
      if (answer === 'accepted') break
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    expect(answer).toBe('accepted')
    expect([one.part.child.exitCode, two.part.child.exitCode]).toEqual([null, null])
  }, 60_000)
})

describe('queue counts in Redis across a broker SIGKILL', () => {
  it('counts nothing for a printer once its relay has taken every job, after the broker was killed mid-burst (three times)', async () => {
    const redis = cleanup.add(await startRedis())
    const env = { PERSISTENCE: 'redis', REDIS_URL: redis.url, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    const url = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const start = async (): Promise<PartProcess> => {
      const broker = cleanup.add(new PartProcess('broker/main.ts', env))
      await broker.waitForLog('broker listening')
      return broker
    }
    let broker = await start()
    const relayId = 'printwire-relay:venue:lobby'
    await leaveSession(url, relayId, ['printers/lobby/jobs'])
    let acked = 0
    // Three rounds: a burst of jobs for the away relay, the broker killed once a few are acknowledged, restarted.
    for (let round = 1; round <= 3; round++) {
      const publisher = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `box-office-burst-${round}`, clean: true, reconnectPeriod: 0 })
      publisher.on('error', () => {})
      const before = acked
      for (let i = 1; i <= 500; i++) publisher.publish('printers/lobby/jobs', JSON.stringify({ id: `b-${round}-${i}`, data: `<RC1,1>b-${round}-${i}<p>` }), { qos: 1 }, (error) => { if (!error) acked++ })
      await expect.poll(() => acked - before, { timeout: 20_000, interval: 2 }).toBeGreaterThan(5)
      await broker.kill('SIGKILL')
      publisher.end(true)
      broker = await start()
    }
    // The relay takes everything queued for it.
    const relay = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: relayId, clean: false, reconnectPeriod: 0 })
    let last = Date.now()
    relay.on('message', () => { last = Date.now() })
    while (Date.now() - last < 2000) await new Promise((resolve) => setTimeout(resolve, 100))
    await relay.endAsync()
    const store = new Redis(redis.url)
    cleanup.defer(() => { store.disconnect() })
    const counted = async (): Promise<{ jobs: number, bytes: number }> => ({ jobs: Number(await store.hget('printwire:queued-jobs', 'lobby') ?? 0), bytes: Number(await store.hget('printwire:queued-bytes', 'lobby') ?? 0) })
    // Nothing waits for the relay: a count above zero is a job that never was queued, counted for ever. What a
    // killed instance reserved is given back once its alive key has expired (a few seconds).
    expect(acked).toBeGreaterThan(0)
    await expect.poll(counted, { timeout: 20_000, interval: 500 }).toEqual({ jobs: 0, bytes: 0 })
  }, 90_000)
})
