/**
 * A broker SIGKILL while several publishers burst at once, with QoS 1 and QoS 2, retained
 * messages, 1 MiB jobs and results for a persistent box-office session: nothing acknowledged may be lost.
 */
import { afterEach, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { Cleanup } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { brokerProcessEnv, drainSession, leaveSession, startBrokerProcess } from '../../harness/brokerProcess.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const idOf = (text: string): string => /"(?:id|jobId)":"([^"]+)"/.exec(text)?.[1] ?? text

describe.each(['level', 'redis'] as const)('broker SIGKILL during a mixed burst from several publishers (%s)', (persistence) => {
  it('delivers every acknowledged job and result after the restart', async () => {
    const env = await brokerProcessEnv(cleanup, persistence)
    const url = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const broker = await startBrokerProcess(cleanup, env)
    await leaveSession(url, 'printwire-relay:crash:lobby', ['printers/lobby/jobs'])
    await leaveSession(url, 'printwire-relay:crash:bar', ['printers/bar/jobs'])
    await leaveSession(url, 'box-office', ['printers/+/responses'])

    const acknowledged = { lobby: [] as string[], bar: [] as string[], results: [] as string[] }
    const publishers = await Promise.all([0, 1, 2, 3].map(() => mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })))
    for (const p of publishers) p.on('error', () => {})
    const big = 'B'.repeat(1024 * 1024 - 200)
    let sent = 0
    publishers.forEach((publisher, n) => {
      for (let i = 0; i < 150; i++) {
        const kind = n === 3 ? 'results' : (i % 2 === 0 ? 'lobby' : 'bar')
        const id = `p${n}-${i}`
        const topic = kind === 'results' ? 'printers/lobby/responses' : `printers/${kind}/jobs`
        const payload = kind === 'results'
          ? JSON.stringify({ jobId: id, printerId: 'lobby', status: 'printed' })
          : JSON.stringify({ id, data: `${n === 2 && i % 10 === 0 ? big : 'x'}<p>` })
        const qos = n === 1 ? 2 : 1
        sent++
        publisher.publishAsync(topic, payload, { qos }).then(() => { acknowledged[kind].push(id) }, () => {})
        // A retained status between them, as relays publish it.
        if (i % 5 === 0) publisher.publishAsync('printers/lobby/status', JSON.stringify({ printerId: 'lobby', state: 'online', i }), { qos: 1, retain: true }).catch(() => {})
      }
    })
    const total = (): number => acknowledged.lobby.length + acknowledged.bar.length + acknowledged.results.length
    while (total() < sent / 3) await new Promise((resolve) => setImmediate(resolve))
    await broker.kill('SIGKILL')
    const before = { lobby: [...acknowledged.lobby], bar: [...acknowledged.bar], results: [...acknowledged.results] }
    for (const p of publishers) p.end(true)

    const restarted = await startBrokerProcess(cleanup, env)
    restarted.child.once('exit', (code) => { if (code !== null) console.error(`restarted broker exited: ${restarted.stderr.slice(-1500)}`) })
    const lobby = new Set((await drainSession(url, 'printwire-relay:crash:lobby')).map(idOf))
    const bar = new Set((await drainSession(url, 'printwire-relay:crash:bar')).map(idOf))
    const results = new Set((await drainSession(url, 'box-office')).map(idOf))
    expect({
      lobby: before.lobby.filter((id) => !lobby.has(id)),
      bar: before.bar.filter((id) => !bar.has(id)),
      results: before.results.filter((id) => !results.has(id))
    }).toEqual({ lobby: [], bar: [], results: [] })
    expect(before.lobby.length + before.bar.length + before.results.length).toBeGreaterThan(0)
  }, 120_000)
})

describe('a relay session that takes its jobs at QoS 2', () => {
  it('does not bring the broker down when it completes a QoS 2 delivery (PUBCOMP)', async () => {
    const env = { PERSISTENCE: 'memory', MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    const url = `mqtt://127.0.0.1:${env.MQTT_PORT}`
    const broker = await startBrokerProcess(cleanup, env)
    const exited = broker.exitCode().then(() => `broker exited: ${broker.stderr.slice(-800)}`)
    const relay = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'printwire-relay:venue:lobby', clean: false, reconnectPeriod: 0 })
    cleanup.defer(() => relay.endAsync(true))
    await relay.subscribeAsync('printers/lobby/jobs', { qos: 2 })
    const publisher = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })
    cleanup.defer(() => publisher.endAsync(true))
    publisher.on('error', () => {})
    const received = new Promise<string>((resolve) => relay.on('message', (_topic, payload) => resolve(payload.toString())))
    await publisher.publishAsync('printers/lobby/jobs', JSON.stringify({ id: 'qos2-job', data: 'x<p>' }), { qos: 2 })
    await received
    // The relay's PUBCOMP is handled by Aedes' PUBACK path, which emits 'ack' with the stored PUBREL (no topic).
    const next = publisher.publishAsync('printers/lobby/jobs', JSON.stringify({ id: 'after', data: 'x<p>' }), { qos: 1 }).then(() => 'still up')
    expect(await Promise.race([exited, next])).toBe('still up')
  })
})
