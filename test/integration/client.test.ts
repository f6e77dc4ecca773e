/**
 * The client library (`printwire/client`, SPEC "Client library") against real parts: an embedded broker, an
 * in-process relay, simulated Boca printers; a real Mosquitto for its NO_RELAY check.
 */
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, PrintwireError, type PrintwireClient } from '../../client/index.ts'
import { issueToken } from '../../access/tokens.ts'
import type { JobErrorMessage } from '../../protocol/payloads.ts'
import { decodeSecret } from '../../runtime/secretText.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { startMosquitto } from '../../harness/mosquittoBroker.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { startVenue } from '../../harness/venue.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function client (url: string, options: Parameters<typeof connect>[1] = {}): Promise<PrintwireClient> {
  const pw = await connect(url, { reconnectPeriodMs: 200, ...options })
  cleanup.defer(() => pw.close())
  return pw
}

/** A broker, a printer and a relay serving it as `lobby`, seen online. */
async function system (): Promise<{ broker: StartedBroker, sim: BocaSimulator }> {
  const { broker, printer } = await startVenue(cleanup)
  return { broker, sim: printer }
}

/** The rejection of `promise`, which must reject. */
async function rejection (promise: Promise<unknown>): Promise<PrintwireError> {
  const error = await promise.then(() => { throw new Error('expected a rejection') }, (error: unknown) => error)
  expect(error).toBeInstanceOf(PrintwireError)
  return error as PrintwireError
}

describe('printwire/client, printing', () => {
  it('correlates 100 concurrent prints from one client: each resolves with its own job', async () => {
    const { broker, sim } = await system()
    const pw = await client(broker.mqttUrl)
    const subscribed: string[] = []
    pw.mqtt.on('packetsend', (packet) => { if (packet.cmd === 'subscribe') subscribed.push(...packet.subscriptions.map((s) => s.topic)) })
    const ids = Array.from({ length: 100 }, (_, i) => `many-${i}`)
    const results = await Promise.all(ids.map((id, i) => pw.print('lobby', `<RC10,10>ticket ${i}<p>`, { id })))
    expect(results.map((r) => r.jobId)).toEqual(ids)
    // One subscription to the printer's results, shared by every print.
    expect(subscribed.sort()).toEqual(['printers/lobby/errors', 'printers/lobby/responses'])
    for (const [i, result] of results.entries()) {
      expect(result).toMatchObject({ printerId: 'lobby', status: 'printed', bytes: Buffer.byteLength(`<RC10,10>ticket ${i}<p>`) })
    }
    expect(sim.tickets.map((t) => t.bytes.toString()).sort()).toEqual(ids.map((_, i) => `<RC10,10>ticket ${i}<p>`).sort())
  })

  it('prints bytes exactly (every byte value, base64 envelope) and gives each print a fresh id by default', async () => {
    const { broker, sim } = await system()
    const pw = await client(broker.mqttUrl)
    const job = Buffer.concat([Buffer.from('<RC10,10><G256>'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('<p>')])
    const first = await pw.print('lobby', new Uint8Array(job))
    const second = await pw.print('lobby', job, { copies: 2 })
    expect(first.jobId).not.toBe(second.jobId)
    expect(first).toMatchObject({ status: 'printed', bytes: job.length })
    expect(second).toMatchObject({ status: 'printed', bytes: job.length * 2 })
    expect(sim.tickets).toHaveLength(3)
    for (const ticket of sim.tickets) expect(ticket.bytes.equals(job)).toBe(true)
  })

  it('rejects with the job\'s final error, with its code, job and printer', async () => {
    const { broker, sim } = await system()
    const pw = await client(broker.mqttUrl)
    const error = await rejection(pw.print('lobby', 'late<p>', { id: 'expired-1', expiresAt: '2020-01-01T00:00:00Z' }))
    expect(error).toMatchObject({ code: 'JOB_EXPIRED', retryable: false, jobId: 'expired-1', printerId: 'lobby' })
    expect(sim.tickets).toHaveLength(0)
  })

  it('rejects with PUBLISH_REFUSED a job the broker closes the connection on, and goes on printing others', async () => {
    const broker = cleanup.add(await startBroker({ MAX_JOB_BYTES: '1000' }))
    const sim = cleanup.add(await startPrinter())
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { MAX_JOB_BYTES: '1000' })))
    await watcher.waitFor((m) => m.json?.state === 'online', 10_000, 'lobby online')
    const pw = await client(broker.mqttUrl)
    // Over the broker's packet limit (MAX_JOB_BYTES in a base64 envelope, plus 64 KiB).
    const refused = await rejection(pw.print('lobby', new Uint8Array(200 * 1024), { id: 'huge-1' }))
    expect(refused).toMatchObject({ code: 'PUBLISH_REFUSED', jobId: 'huge-1', printerId: 'lobby' })
    expect(await pw.print('lobby', 'after<p>')).toMatchObject({ status: 'printed' })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['after<p>'])
  })

  it('refuses bad arguments before sending anything', async () => {
    const { broker, sim } = await system()
    const pw = await client(broker.mqttUrl)
    expect(await rejection(pw.print('lobby/#', 'x<p>'))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(await rejection(pw.print('lobby', ''))).toMatchObject({ code: 'INVALID_JOB' })
    expect(await rejection(pw.print('lobby', 'x<p>', { copies: 0 }))).toMatchObject({ code: 'INVALID_JOB' })
    expect(await rejection(pw.print('lobby', 'x<p>', { id: 'bad id' }))).toMatchObject({ code: 'INVALID_JOB' })
    expect(await rejection(pw.print('lobby', 'x<p>', { expiresAt: 'tomorrow' }))).toMatchObject({ code: 'INVALID_JOB' })
    // Nothing of the above was published: the next job is the first ticket.
    await pw.print('lobby', 'good<p>')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['good<p>'])
  })

  it('lists the printers it can see, and tells of changes', async () => {
    const { broker, sim } = await system()
    const pw = await client(broker.mqttUrl)
    await expect.poll(() => pw.printers(), { timeout: 10_000 }).toEqual([expect.objectContaining({ printerId: 'lobby', state: 'online', relayId: 'test-relay' })])
    const changed = new Promise<string>((resolve) => pw.on('printers', (list) => { if (list[0]?.state === 'unreachable') resolve(list[0].state) }))
    await sim.setState('offline')
    // The relay finds the printer gone when it next needs it.
    void pw.print('lobby', 'x<p>').catch(() => {})
    expect(await changed).toBe('unreachable')
  })
})

describe('printwire/client, waiting', () => {
  it('rejects with TIMEOUT after timeoutMs, having passed PRINTER_UNREACHABLE to onUpdate', async () => {
    const broker = cleanup.add(await startBroker())
    // A printer address where nothing listens: a closed port on loopback.
    const closed = `127.0.0.1:${await freePort()}`
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: closed }, await tempDir(cleanup))))
    await watcher.waitFor((m) => m.topic === 'printers/lobby/status', 10_000, 'lobby status')
    const pw = await client(broker.mqttUrl)
    const updates: JobErrorMessage[] = []
    const error = await rejection(pw.print('lobby', 'never<p>', { id: 'slow-1', timeoutMs: 3000, onUpdate: (e) => updates.push(e) }))
    expect(error).toMatchObject({ code: 'TIMEOUT', jobId: 'slow-1', printerId: 'lobby' })
    expect(updates.map((u) => u.code)).toContain('PRINTER_UNREACHABLE')
    expect(updates.every((u) => u.jobId === 'slow-1' && u.retryable)).toBe(true)
  })

  it('rejects with ABORTED when its signal aborts, before or after publishing', async () => {
    const broker = cleanup.add(await startBroker())
    const pw = await client(broker.mqttUrl)
    const before = new AbortController()
    before.abort()
    expect(await rejection(pw.print('nobody', 'x<p>', { signal: before.signal }))).toMatchObject({ code: 'ABORTED' })
    const after = new AbortController()
    const error = rejection(pw.print('nobody', 'x<p>', { id: 'abort-1', signal: after.signal, onPublished: () => after.abort() }))
    expect(await error).toMatchObject({ code: 'ABORTED', jobId: 'abort-1', printerId: 'nobody' })
    // The id is free again: the same job may be waited for anew.
    const again = new AbortController()
    const retried = rejection(pw.print('nobody', 'x<p>', { id: 'abort-1', signal: again.signal, onPublished: () => again.abort() }))
    expect(await retried).toMatchObject({ code: 'ABORTED' })
  })

  it('rejects with NO_RELAY when the printer\'s errors say so for its job', async () => {
    const broker = cleanup.add(await startBroker())
    const pw = await client(broker.mqttUrl)
    const relayless = cleanup.add(await TestClient.connect(broker.mqttUrl))
    const published = new Promise<void>((resolve) => {
      void pw.print('ghost', 'x<p>', { id: 'ghost-1', onPublished: () => resolve() }).catch(() => {})
    })
    const outcome = rejection(pw.print('ghost', 'y<p>', { id: 'ghost-2' }))
    await published
    // Another job's error, and an error naming no job, change nothing for ghost-2.
    await relayless.publish('printers/ghost/errors', JSON.stringify({ printerId: 'ghost', code: 'PRINTER_ERROR', message: 'paper out', retryable: true, at: new Date().toISOString() }))
    await relayless.publish('printers/ghost/errors', JSON.stringify({ jobId: 'ghost-2', printerId: 'ghost', code: 'NO_RELAY', message: 'no relay serves printer "ghost"', retryable: false, at: new Date().toISOString() }))
    expect(await outcome).toMatchObject({ code: 'NO_RELAY', retryable: false, jobId: 'ghost-2', printerId: 'ghost' })
  })

  it('cancels: publishes {"jobId"} on the printer\'s cancel topic, and rejects the print with the relay\'s JOB_CANCELLED', async () => {
    const broker = cleanup.add(await startBroker())
    const pw = await client(broker.mqttUrl)
    // A relay session of lobby (a plain subscriber would not count: the broker answers NO_RELAY).
    const relay = cleanup.add(await TestClient.connect(broker.mqttUrl, { clientId: 'printwire-relay:stand-in:lobby', clean: false }))
    await relay.subscribe('printers/lobby/jobs', 'printers/lobby/cancel')
    const outcome = rejection(pw.print('lobby', 'x<p>', { id: 'cancel-1' }))
    await relay.waitFor((m) => m.topic === 'printers/lobby/jobs' && m.json?.id === 'cancel-1', 10_000, 'the job')
    await pw.cancel('lobby', 'cancel-1')
    const request = await relay.waitFor((m) => m.topic === 'printers/lobby/cancel', 10_000, 'the cancel request')
    expect(request.json).toEqual({ jobId: 'cancel-1' })
    // As a relay answers it (SPEC "No relay, cancel").
    await relay.publish('printers/lobby/errors', JSON.stringify({ jobId: 'cancel-1', printerId: 'lobby', code: 'JOB_CANCELLED', message: 'cancelled before it started printing', retryable: false, at: new Date().toISOString() }))
    expect(await outcome).toMatchObject({ code: 'JOB_CANCELLED', jobId: 'cancel-1', printerId: 'lobby', retryable: false })
    expect(await rejection(pw.cancel('lobby/#', 'cancel-1'))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(await rejection(pw.cancel('lobby', 'bad id'))).toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('rejects a second wait for a job id it already waits for on that printer, and ends waits on close', async () => {
    const broker = cleanup.add(await startBroker())
    const pw = await connect(broker.mqttUrl)
    const first = rejection(pw.print('nobody', 'x<p>', { id: 'twice' }))
    expect(await rejection(pw.print('nobody', 'x<p>', { id: 'twice' }))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    await pw.close()
    expect(await first).toMatchObject({ code: 'ABORTED', jobId: 'twice' })
    expect(await rejection(pw.print('nobody', 'x<p>'))).toMatchObject({ code: 'ABORTED' })
  })

  it('refuses to connect with a clear code: nothing listening, a refused log-in', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`
    expect(await rejection(connect(url))).toMatchObject({ code: 'BROKER_UNREACHABLE' })
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1' }))
    expect(await rejection(connect(broker.mqttUrl, { username: 'alice', password: 'wrong' }))).toMatchObject({ code: 'LOGIN_REFUSED' })
    const alice = await client(broker.mqttUrl, { username: 'alice', password: PASSWORDS.alice })
    expect(await rejection(alice.print('bar', 'x<p>'))).toMatchObject({ code: 'NOT_ALLOWED', printerId: 'bar' })
  })
})

describe('printwire/client with a browser token', () => {
  const SECRET_TEXT = 'qgjBkYF3C3TnVhw0H5b1mOZ4xP2sN8aLdR6eW9cUyKo'
  const ALICE = { name: 'alice', role: 'client' as const, printers: ['lobby'] }

  it('prints on the token\'s printers only, and stops with LOGIN_REFUSED when the token expires while it waits', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1', TOKEN_SECRET: SECRET_TEXT }))
    const sim = cleanup.add(await startPrinter())
    const ops = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'ops', password: PASSWORDS.ops }))
    await ops.subscribe('printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, path.join(dir, 'state'), { MQTT_USERNAME: 'ops', MQTT_PASSWORD: PASSWORDS.ops })))
    await ops.waitFor((m) => m.json?.state === 'online', 10_000, 'lobby online')

    const { token } = issueToken(decodeSecret(SECRET_TEXT) as Buffer, ALICE, { printers: ['lobby'], ttlSeconds: 3 }, Date.now())
    const pw = await client(broker.mqttUrl, { token })
    expect(await pw.print('lobby', 'with a token<p>')).toMatchObject({ status: 'printed' })
    expect(await rejection(pw.print('bar', 'x<p>'))).toMatchObject({ code: 'NOT_ALLOWED' })

    await sim.setState('offline')
    const refused = new Promise<boolean>((resolve) => pw.on('connection', (state) => { if (state.loginRefused === true) resolve(true) }))
    const waiting = rejection(pw.print('lobby', 'never<p>', { id: 'token-expired-1' }))
    expect(await waiting).toMatchObject({ code: 'LOGIN_REFUSED', jobId: 'token-expired-1' })
    expect(await refused).toBe(true)
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['with a token<p>'])
  })
})

/** A TCP pass-through to `port` that a test can cut (every connection dropped, new ones refused) and restore. */
async function cuttableProxy (port: number): Promise<{ url: string, cut(): void, restore(): void, stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  let open = true
  const server = net.createServer((socket) => {
    if (!open) { socket.destroy(); return }
    const upstream = net.connect(port, '127.0.0.1')
    for (const s of [socket, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => { sockets.delete(s); socket.destroy(); upstream.destroy() })
    }
    socket.pipe(upstream).pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut: () => { open = false; for (const s of sockets) s.destroy() },
    restore: () => { open = true },
    stop: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) })
  }
}

describe('printwire/client, across reconnects', () => {
  it('gets a result published while it was disconnected: it publishes the job again on reconnect, and it prints once', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    await sim.setState('offline')
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/lobby/status', 'printers/lobby/responses')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))))
    await watcher.waitFor((m) => m.topic === 'printers/lobby/status', 10_000, 'lobby status')
    const proxy = await cuttableProxy(Number(new URL(broker.mqttUrl).port))
    cleanup.defer(() => proxy.stop())
    const pw = await client(proxy.url)
    let result: ReturnType<PrintwireClient['print']> | undefined
    const unreachable = new Promise<void>((resolve) => {
      result = pw.print('lobby', 'missed<p>', { id: 'missed-1', onUpdate: (e) => { if (e.code === 'PRINTER_UNREACHABLE') resolve() } })
    })
    await unreachable
    proxy.cut()
    await sim.setState('ready')
    // Printed and answered while the client cannot hear it.
    await watcher.outcome('lobby', 'missed-1')
    proxy.restore()
    expect(await result).toMatchObject({ jobId: 'missed-1', status: 'printed' })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['missed<p>'])
  })

  it('prints a job asked for while disconnected once the connection is back', async () => {
    const { broker, sim } = await system()
    const proxy = await cuttableProxy(Number(new URL(broker.mqttUrl).port))
    cleanup.defer(() => proxy.stop())
    const pw = await client(proxy.url)
    const lost = new Promise<void>((resolve) => pw.on('connection', (state) => { if (!state.connected) resolve() }))
    proxy.cut()
    await lost
    const result = pw.print('lobby', 'while away<p>', { id: 'away-1' })
    proxy.restore()
    expect(await result).toMatchObject({ jobId: 'away-1', status: 'printed' })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['while away<p>'])
  })

  it('publishes again after a reconnect only the jobs it still waits for and has not cancelled', async () => {
    const broker = cleanup.add(await startBroker())
    const relay = cleanup.add(await TestClient.connect(broker.mqttUrl, { clientId: 'printwire-relay:stand-in:lobby', clean: false }))
    await relay.subscribe('printers/lobby/jobs')
    const proxy = await cuttableProxy(Number(new URL(broker.mqttUrl).port))
    cleanup.defer(() => proxy.stop())
    const pw = await client(proxy.url)
    const ids = (): string[] => relay.messages.map((m) => m.json?.id as string)
    void pw.print('lobby', 'kept<p>', { id: 'kept-1' }).catch(() => {})
    void pw.print('lobby', 'cancelled<p>', { id: 'cancelled-1' }).catch(() => {})
    const done = rejection(pw.print('lobby', 'done<p>', { id: 'done-1' }))
    await relay.waitFor(() => ['kept-1', 'cancelled-1', 'done-1'].every((id) => ids().includes(id)), 10_000, 'the three jobs')
    await pw.cancel('lobby', 'cancelled-1')
    await relay.publish('printers/lobby/errors', JSON.stringify({ jobId: 'done-1', printerId: 'lobby', code: 'JOB_EXPIRED', message: 'too late', retryable: false, at: new Date().toISOString() }))
    expect(await done).toMatchObject({ code: 'JOB_EXPIRED' })
    proxy.cut()
    proxy.restore()
    await relay.waitFor(() => ids().filter((id) => id === 'kept-1').length === 2, 10_000, 'kept-1 published again')
    // Published after kept-1 if at all: the client publishes them in one go, in the order they were printed.
    await relay.publish('printers/lobby/jobs', JSON.stringify({ id: 'fence', data: 'x' }))
    await relay.waitFor(() => ids().includes('fence'), 10_000, 'the fence')
    expect(ids()).toEqual(['kept-1', 'cancelled-1', 'done-1', 'kept-1', 'fence'])
  })

  it('does not take a NO_RELAY for a copy it sent again after a reconnect as the job\'s end: it asks again until the relay answers', async () => {
    const broker = cleanup.add(await startBroker())
    const relayOptions = { clientId: 'printwire-relay:stand-in:lobby', clean: false }
    const relay = cleanup.add(await TestClient.connect(broker.mqttUrl, relayOptions))
    await relay.subscribe('printers/lobby/jobs')
    const proxy = await cuttableProxy(Number(new URL(broker.mqttUrl).port))
    cleanup.defer(() => proxy.stop())
    const pw = await client(proxy.url)
    let settled = false
    const result = pw.print('lobby', 'kept<p>', { id: 'probe-1' }).finally(() => { settled = true })
    result.catch(() => {})
    await relay.waitFor((m) => m.json?.id === 'probe-1', 10_000, 'the job')
    // The relay's session goes (as while a restarted broker has not seen it yet): the copy sent after the
    // reconnect is answered NO_RELAY by the broker.
    await relay.stop()
    const wipe = await TestClient.connect(broker.mqttUrl, { clientId: relayOptions.clientId, clean: true })
    await wipe.stop()
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/lobby/errors')
    proxy.cut()
    proxy.restore()
    await watcher.waitFor((m) => m.json?.code === 'NO_RELAY' && m.json?.jobId === 'probe-1', 10_000, 'NO_RELAY for the copy')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(settled).toBe(false)
    // The relay's session is back: the next copy reaches it, and its answer settles the print.
    const back = cleanup.add(await TestClient.connect(broker.mqttUrl, relayOptions))
    await back.subscribe('printers/lobby/jobs')
    await back.waitFor((m) => m.json?.id === 'probe-1', 10_000, 'the job asked again')
    await back.publish('printers/lobby/responses', JSON.stringify({ jobId: 'probe-1', printerId: 'lobby', status: 'printed', bytes: 8, durationMs: 1, printer: {}, at: new Date().toISOString() }))
    expect(await result).toMatchObject({ jobId: 'probe-1', status: 'printed' })
  })

  it('still resolves when the broker (level persistence, same port) restarts while it waits', async () => {
    const env = { PERSISTENCE: 'level', DATA_DIR: await tempDir(cleanup), MQTT_PORT: String(await freePort()), PORT: String(await freePort()) }
    let broker = await startBroker(env)
    cleanup.defer(() => broker.stop())
    const sim = cleanup.add(await startPrinter())
    await sim.setState('offline')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))))
    // Slower to come back than the relay: the result is published before the client has subscribed again
    // (the page's row that stayed "waiting" for good); it gets it by publishing the job again.
    const pw = await client(broker.mqttUrl, { reconnectPeriodMs: 4000 })
    const lost = new Promise<void>((resolve) => pw.on('connection', (state) => { if (!state.connected) resolve() }))
    let result: ReturnType<PrintwireClient['print']> | undefined
    await new Promise<void>((resolve) => {
      result = pw.print('lobby', 'across restart<p>', { id: 'restart-1', onUpdate: () => resolve() })
    })
    await broker.stop()
    await lost
    // The printer comes back while the broker is down: the relay prints, and answers once it is back.
    await sim.setState('ready')
    await sim.waitForTickets(1, 10_000)
    broker = await startBroker(env)
    expect(await result).toMatchObject({ jobId: 'restart-1', status: 'printed' })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['across restart<p>'])
  }, 60_000) // A level broker stopped and started again, a relay and a client reconnecting: slow when the machine is busy.
})

describe('printwire/client on Mosquitto', () => {
  it('checks the printer\'s retained status first: NO_RELAY without publishing when no relay serves it', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const mosquitto = cleanup.add(await startMosquitto(authFile, dir))
    const ops = cleanup.add(await TestClient.connect(mosquitto.mqttUrl, { username: 'ops', password: PASSWORDS.ops }))
    await ops.subscribe('printers/+/jobs', 'printers/lobby/status')
    const pw = await client(mosquitto.mqttUrl, { username: 'alice', password: PASSWORDS.alice, broker: 'mosquitto' })

    const none = await rejection(pw.print('lobby', 'nobody<p>', { id: 'mq-1' }))
    expect(none).toMatchObject({ code: 'NO_RELAY', jobId: 'mq-1', printerId: 'lobby' })
    expect(none.message).toContain('no relay has announced it')

    const sim = cleanup.add(await startPrinter())
    const relay = await startRelay(relayEnv(mosquitto.mqttUrl, { lobby: sim }, path.join(dir, 'state'), { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] }))
    await ops.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online', 10_000, 'lobby online')
    expect(await pw.print('lobby', 'served<p>', { id: 'mq-2' })).toMatchObject({ status: 'printed' })

    await relay.stop()
    await ops.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'offline', 10_000, 'lobby offline')
    const gone = await rejection(pw.print('lobby', 'gone<p>', { id: 'mq-3' }))
    expect(gone).toMatchObject({ code: 'NO_RELAY', jobId: 'mq-3' })
    expect(gone.message).toContain('its status is offline')

    // Only the served job was published.
    await ops.publish('printers/lobby/jobs', 'fence<p>')
    await ops.waitFor((m) => m.text === 'fence<p>', 10_000, 'the fence job')
    expect(ops.messages.filter((m) => m.topic === 'printers/lobby/jobs').map((m) => m.json?.id ?? m.text)).toEqual(['mq-2', 'fence<p>'])
  })
})
