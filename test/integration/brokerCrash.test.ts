/**
 * A QoS 1 PUBACK from the broker means the message is in persistence for every matching session: a broker
 * killed with SIGKILL right after acknowledging a burst delivers every acknowledged message after a restart
 * (level and redis). Aedes 1.2 on its own acknowledges first and stores after (lib/handlers/publish.js).
 */
import { afterEach, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { connectListening } from '../../harness/mqttClient.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { brokerProcessEnv, drainSession, leaveSession, startBrokerProcess } from '../../harness/brokerProcess.ts'
import { startRedis } from '../../harness/redisServer.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { addUser } from '../../cli/userCommand.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const JOBS = 400

describe.each(['level', 'redis'] as const)('broker killed with SIGKILL after acknowledging (%s)', (persistence) => {
  it('delivers every acknowledged message after the restart', async () => {
    const env = await brokerProcessEnv(cleanup, persistence)
    const url = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const broker = await startBrokerProcess(cleanup, env)
    await leaveSession(url, 'printwire-relay:crash:lobby', ['printers/lobby/jobs'])

    const publisher = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })
    publisher.on('error', () => {})
    const acknowledged: string[] = []
    Array.from({ length: JOBS }, (_, i) => {
      const id = `crash-${i}`
      return publisher.publishAsync('printers/lobby/jobs', JSON.stringify({ id, data: `ticket ${i}<p>` }), { qos: 1 })
        .then(() => { acknowledged.push(id) }, () => {})
    })
    // Killed as soon as a good part of the burst is acknowledged, while the rest is still arriving.
    while (acknowledged.length < JOBS / 2) await new Promise((resolve) => setImmediate(resolve))
    await broker.kill('SIGKILL')
    const acknowledgedBeforeKill = [...acknowledged]
    // (Publishes still in flight never settle: the connection is gone and the publisher does not reconnect.)
    publisher.end(true)

    await startBrokerProcess(cleanup, env)
    const delivered = new Set((await drainSession(url, 'printwire-relay:crash:lobby')).map((text) => (JSON.parse(text) as { id: string }).id))
    const lost = acknowledgedBeforeKill.filter((id) => !delivered.has(id))
    expect(acknowledgedBeforeKill.length).toBeGreaterThanOrEqual(JOBS / 2)
    expect(lost).toEqual([])
  }, 60_000)
})

describe('a Redis outage (PERSISTENCE=redis)', () => {
  it('acknowledges nothing while Redis is down, then stores and delivers the job once it is back', async () => {
    const redis = cleanup.add(await startRedis({ dir: await tempDir(cleanup) }))
    const env = { PERSISTENCE: 'redis', REDIS_URL: redis.url, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    const broker = await startBrokerProcess(cleanup, env)
    const mqttUrl = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    await leaveSession(mqttUrl, 'printwire-relay:outage:lobby', ['printers/lobby/jobs'])
    const publisher = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 200 })
    publisher.on('error', () => {})
    cleanup.defer(() => { publisher.end(true) })

    await redis.kill()
    let acknowledged = false
    const sent = publisher.publishAsync('printers/lobby/jobs', JSON.stringify({ id: 'during-outage', data: 'x<p>' }), { qos: 1 })
      .then(() => { acknowledged = true })
    // The broker retries Redis for a while, then gives the publish up unacknowledged; the publisher keeps
    // sending it again on each reconnection.
    await broker.waitForLog('could not store a publish: not acknowledged, connection closed (the client sends it again)', 30_000)
    expect(acknowledged).toBe(false)

    await redis.restart()
    await sent
    const delivered = await drainSession(mqttUrl, 'printwire-relay:outage:lobby')
    expect(delivered.map((text) => (JSON.parse(text) as { id: string }).id)).toContain('during-outage')
  }, 60_000)
})

describe('a Redis outage longer than the broker\'s Will round', () => {
  it('does not bring the broker down (Aedes reports the failed Will round as an error event)', async () => {
    const redis = cleanup.add(await startRedis({ dir: await tempDir(cleanup) }))
    const env = { PERSISTENCE: 'redis', REDIS_URL: redis.url, HEARTBEAT_INTERVAL_MS: '200', MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    const broker = await startBrokerProcess(cleanup, env)
    await redis.kill()
    // Several Will rounds (every 4 heartbeats) fail while Redis is away.
    await new Promise((resolve) => setTimeout(resolve, 4000))
    await redis.restart()
    await leaveSession(`mqtt://127.0.0.1:${env.MQTT_PORT}`, 'printwire-relay:after:lobby', ['printers/lobby/jobs'])
    expect(broker.child.exitCode).toBeNull()
  }, 60_000)
})

describe('a Redis outage during a SUBSCRIBE\'s retained read', () => {
  it('does not bring the broker down (Aedes pipes the retained messages with no error handler)', async () => {
    const redis = cleanup.add(await startRedis({ dir: await tempDir(cleanup) }))
    const env = { PERSISTENCE: 'redis', REDIS_URL: redis.url, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    const url = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const broker = await startBrokerProcess(cleanup, env)
    const relays = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })
    await Promise.all(Array.from({ length: 2000 }, (_, i) => relays.publishAsync(`printers/p${i}/status`, '{"state":"online"}', { qos: 1, retain: true })))
    await relays.endAsync()
    const page = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })
    page.on('error', () => {})
    // The 2,000 retained statuses are still being read when Redis goes.
    page.subscribe('printers/+/status', { qos: 1 })
    await new Promise((resolve) => setTimeout(resolve, 20))
    await redis.kill()
    await new Promise((resolve) => setTimeout(resolve, 3000))
    page.end(true)
    await redis.restart()
    await leaveSession(url, 'printwire-relay:after:p1', ['printers/p1/jobs'])
    expect(broker.child.exitCode).toBeNull()
  }, 60_000)
})

describe('Last Wills of a broker killed with SIGKILL (AUTH_FILE, level)', () => {
  it('publishes them after the restart only as their client id\'s owner may: a relay\'s `offline`, never a job planted on another printer', async () => {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    await addUser(authFile, 'carol', { password: 'carol-pw', role: 'client', printers: 'lobby,bar' })
    const env = { AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1', PERSISTENCE: 'level', DATA_DIR: dir, HEARTBEAT_INTERVAL_MS: '250', MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    const url = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const broker = await startBrokerProcess(cleanup, env)
    const relayBar = { username: 'relay-bar', password: PASSWORDS['relay-bar'] }
    const barSession = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'printwire-relay:venue:bar', clean: false, reconnectPeriod: 0, ...relayBar })
    await barSession.subscribeAsync('printers/bar/jobs', { qos: 1 })
    await barSession.endAsync()
    // carol may print on bar when she connects, with a Will that prints there; the lobby relay's Will is its `offline`.
    const carol = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, username: 'carol', password: 'carol-pw', will: { topic: 'printers/bar/jobs', payload: Buffer.from('<RC1,1>will-from-carol<p>'), qos: 1, retain: false } })
    const relayLobby = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, clientId: 'printwire-relay:venue:lobby', clean: false, username: 'relay-lobby', password: PASSWORDS['relay-lobby'], will: { topic: 'printers/lobby/status', payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } })
    for (const client of [carol, relayLobby]) client.on('error', () => {})

    await broker.kill('SIGKILL')
    carol.end(true)
    relayLobby.end(true)
    // While the broker is down, carol loses bar.
    await addUser(authFile, 'carol', { password: 'carol-pw', role: 'client', printers: 'lobby' })
    const restarted = await startBrokerProcess(cleanup, env)

    const ops = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, username: 'ops', password: PASSWORDS.ops })
    cleanup.defer(() => ops.endAsync())
    const statuses: string[] = []
    ops.on('message', (topic, payload) => { if (topic === 'printers/lobby/status') statuses.push(payload.toString()) })
    await ops.subscribeAsync('printers/lobby/status', { qos: 1 })
    await restarted.waitForLog('Last Will of a client of a dead broker instance refused', 20_000)
    await expect.poll(() => statuses, { timeout: 10_000 }).toContain('{"state":"offline"}')

    const planted: string[] = []
    const session = await connectListening(url, { protocolVersion: 4, clientId: 'printwire-relay:venue:bar', clean: false, reconnectPeriod: 0, ...relayBar }, (_topic, payload) => planted.push(payload.toString()))
    // What was queued for bar arrives right after CONNACK; a fresh message after it proves the queue was sent.
    await session.subscribeAsync('printers/bar/jobs', { qos: 1 })
    const admin = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, username: 'ops', password: PASSWORDS.ops })
    await admin.publishAsync('printers/bar/jobs', 'fence', { qos: 1 })
    await admin.endAsync()
    await expect.poll(() => planted, { timeout: 5_000 }).toContain('fence')
    await session.endAsync()
    expect(planted).toEqual(['fence'])
  }, 60_000)
})
