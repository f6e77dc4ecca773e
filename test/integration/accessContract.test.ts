/**
 * The access contract (SPEC "Access"), run against both brokers with the same users: the embedded Aedes
 * broker with AUTH_FILE, and a real Mosquitto running the repo's mosquitto.conf with the files
 * `printwire mosquitto-export` writes (its page-facing WebSockets through `npm run web`'s /mqtt).
 *
 * Every refusal checks its effect, not only an error: after the refused action a permitted "fence"
 * job goes the same way, and once its result is back, nothing the refused action sent has printed
 * or been delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'
import { Cleanup, relayEnv, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { BROKER_TARGETS, PASSWORDS, writeTestUsers, type UserName } from '../../harness/accessTargets.ts'

describe.each(BROKER_TARGETS)('access contract on $name', (target) => {
  const cleanup = new Cleanup()
  let urls: { mqttUrl: string, wsUrl: string }
  let lobby: BocaSimulator
  let bar: BocaSimulator
  /** An admin who sees every result, for checking that forged ones never arrive. */
  let watcher: TestClient
  let bob: TestClient
  let sequence = 0

  const login = (user: UserName, url = urls.mqttUrl, extra: mqtt.IClientOptions = {}): Promise<TestClient> =>
    TestClient.connect(url, { username: user, password: PASSWORDS[user], ...extra }).then((c) => cleanup.add(c))

  const ticketsWith = (sim: BocaSimulator, marker: string): number => sim.tickets.filter((t) => t.bytes.toString('latin1').includes(marker)).length

  /** A permitted job on bar by bob; once its result is back, anything sent before it has arrived. */
  async function fenceOnBar (): Promise<void> {
    const id = `fence-${++sequence}`
    await bob.publish('printers/bar/jobs', JSON.stringify({ id, data: `<RC1,1>${id}<p>` }))
    expect((await bob.outcome('bar', id)).json.status).toBe('printed')
  }

  /**
   * A permitted job on lobby by a fresh log-in of alice; resolves once `observer` (default: that log-in) has its
   * outcome, so anything sent before it has arrived. Its ticket reads "fence", never a marker a test counts.
   */
  async function fenceOnLobby (id: string, observer?: TestClient): Promise<void> {
    const alice = await login('alice')
    await alice.subscribe('printers/lobby/responses')
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id, data: '<RC1,1>fence<p>' }))
    await (observer ?? alice).outcome('lobby', id)
  }

  /** Publishes and returns once the broker acknowledged it or closed the connection (both refusals MQTT 3.1.1 allows). */
  async function publishMaybeRefused (client: TestClient, topic: string, payload: string): Promise<'acknowledged' | 'closed'> {
    return await Promise.race([
      client.client.publishAsync(topic, payload, { qos: 1 }).then(() => 'acknowledged' as const),
      new Promise<'closed'>((resolve) => client.client.once('close', () => resolve('closed')))
    ])
  }

  /** Subscribes; a refusal (SUBACK 0x80) is allowed, as long as nothing is delivered. */
  async function subscribeMaybeRefused (client: TestClient, filter: string): Promise<void> {
    await client.client.subscribeAsync(filter, { qos: 1 }).catch((error: Error) => {
      if (!/Subscribe error/.test(error.message)) throw error
    })
  }

  beforeAll(async () => {
    const dir = await tempDir(cleanup)
    const authFile = `${dir}/auth.json`
    await writeTestUsers(authFile)
    urls = await target.start(authFile, dir, cleanup)
    lobby = cleanup.add(await startPrinter())
    bar = cleanup.add(await startPrinter())
    watcher = await login('ops')
    await watcher.subscribe('printers/+/responses', 'printers/+/errors', 'printers/+/status')
    cleanup.add(await startRelay(relayEnv(urls.mqttUrl, { lobby }, await tempDir(cleanup), { RELAY_ID: 'venue-a', MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] })))
    cleanup.add(await startRelay(relayEnv(urls.mqttUrl, { bar }, await tempDir(cleanup), { RELAY_ID: 'venue-b', MQTT_USERNAME: 'relay-bar', MQTT_PASSWORD: PASSWORDS['relay-bar'] })))
    for (const id of ['lobby', 'bar']) await watcher.waitFor((m) => m.topic === `printers/${id}/status` && m.json?.state === 'online', 10_000, `${id} online`)
    bob = await login('bob')
    await bob.subscribe('printers/bar/responses', 'printers/bar/errors')
  }, 60_000)
  afterAll(() => cleanup.closeAll())

  it('prints for a client over TCP and over WebSockets, and shows it the server time', async () => {
    for (const [how, url] of [['tcp', urls.mqttUrl], ['ws', urls.wsUrl]] as const) {
      const alice = await login('alice', url)
      await alice.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'server/time')
      const id = `alice-${how}`
      await alice.publish('printers/lobby/jobs', JSON.stringify({ id, data: `<RC1,1>${id}<p>` }))
      expect((await alice.outcome('lobby', id)).json).toMatchObject({ status: 'printed', printerId: 'lobby' })
      expect(ticketsWith(lobby, id)).toBe(1)
      const time = await alice.waitFor((m) => m.topic === 'server/time', 5_000, 'server/time')
      expect(Date.parse(time.text)).not.toBeNaN()
    }
  })

  it('refuses anonymous clients, wrong passwords and unknown users, over TCP and WebSockets; nothing they send prints', async () => {
    const attempts: Array<[string, mqtt.IClientOptions]> = [
      ['anonymous', {}],
      ['wrong password', { username: 'alice', password: 'not-her-password' }],
      ['unknown user', { username: 'mallory', password: 'alice-pw' }]
    ]
    for (const url of [urls.mqttUrl, urls.wsUrl]) {
      for (const [what, options] of attempts) {
        const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options })
        client.publish('printers/lobby/jobs', `<RC1,1>intruder ${what}<p>`, { qos: 1 })
        const refusal = await new Promise<number | string>((resolve) => {
          client.once('connect', () => resolve('connected'))
          client.once('error', (error) => resolve((error as { code?: number }).code ?? error.message))
        })
        client.end(true)
        expect([4, 5], `${what} over ${url}`).toContain(refusal)
      }
    }
    await fenceOnLobby('after-intruders')
    expect(ticketsWith(lobby, 'intruder')).toBe(0)
  })

  it('refuses a packet over the size limit without printing any of it', async () => {
    const alice = await login('alice')
    const tooBig = Buffer.concat([Buffer.from('<RC1,1>too-big'), Buffer.alloc(1536 * 1024, 0x41), Buffer.from('<p>')])
    expect(await publishMaybeRefused(alice, 'printers/lobby/jobs', tooBig.toString('latin1'))).toBe('closed')
    await fenceOnLobby('after-too-big')
    expect(ticketsWith(lobby, 'too-big')).toBe(0)
  })

  it('never prints a client\'s job on a printer it may not use', async () => {
    const alice = await login('alice')
    const outcome = await publishMaybeRefused(alice, 'printers/bar/jobs', JSON.stringify({ id: 'alice-on-bar', data: '<RC1,1>alice-on-bar<p>' }))
    expect(['acknowledged', 'closed']).toContain(outcome)
    await fenceOnBar()
    expect(ticketsWith(bar, 'alice-on-bar')).toBe(0)
    expect(watcher.messages.some((m) => m.json?.jobId === 'alice-on-bar')).toBe(false)
  })

  it('never delivers another printer\'s results or anyone\'s jobs to a client, directly or through # and +', async () => {
    const alice = await login('alice')
    for (const filter of ['printers/bar/responses', 'printers/bar/errors', 'printers/bar/status', 'printers/bar/#', 'printers/+/responses', 'printers/lobby/jobs', 'printers/+/jobs', '#', '$SYS/#']) {
      await subscribeMaybeRefused(alice, filter)
    }
    await fenceOnBar()
    // Alice's own job: her `#` must deliver its result (so the subscriptions work), but never the job itself.
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'alice-own', data: '<RC1,1>alice-own<p>' }))
    await alice.outcome('lobby', 'alice-own')
    const leaked = alice.messages.filter((m) => !m.topic.startsWith('printers/lobby/') || m.topic.endsWith('/jobs'))
    expect(leaked.filter((m) => m.topic !== 'server/time').map((m) => m.topic)).toEqual([])
  })

  it('never publishes a Last Will on a topic its user may not publish to', async () => {
    const will = { topic: 'printers/bar/jobs', payload: Buffer.from('<RC1,1>will-on-bar<p>'), qos: 1 as const, retain: false }
    const client = mqtt.connect(urls.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, username: 'alice', password: PASSWORDS.alice, will })
    const outcome = await new Promise<number | string>((resolve) => {
      client.once('connect', () => resolve('connected'))
      client.once('error', (error) => resolve((error as { code?: number }).code ?? error.message))
    })
    // Refused at CONNECT, or accepted with a Will that is then dropped: either way it never prints. Dying
    // without a DISCONNECT is what publishes a Will.
    if (outcome === 'connected') (client as unknown as { stream: { destroy(): void } }).stream.destroy()
    client.end(true)
    await fenceOnBar()
    expect(ticketsWith(bar, 'will-on-bar')).toBe(0)
    if (target.name === 'embedded Aedes') expect(outcome).toBe(5)
  })

  it('lets only a relay publish results and status', async () => {
    const alice = await login('alice')
    const forgedResult = JSON.stringify({ jobId: 'forged-1', printerId: 'lobby', status: 'printed', bytes: 1, durationMs: 1, at: new Date().toISOString() })
    const forgedStatus = JSON.stringify({ printerId: 'lobby', state: 'offline', relayId: 'forger', at: new Date().toISOString() })
    await publishMaybeRefused(alice, 'printers/lobby/responses', forgedResult)
    const alice2 = await login('alice')
    await publishMaybeRefused(alice2, 'printers/lobby/status', forgedStatus)
    await fenceOnLobby('after-forgery', watcher)
    expect(watcher.messages.filter((m) => m.json?.jobId === 'forged-1' || m.json?.relayId === 'forger')).toEqual([])
    // The retained status is still the relay's.
    const fresh = await login('ops')
    await fresh.subscribe('printers/lobby/status')
    expect((await fresh.waitFor((m) => m.topic === 'printers/lobby/status')).json).toMatchObject({ state: 'online', relayId: 'venue-a' })
  })

  it('lets a relay read server/time (it judges expiresAt by the broker\'s clock), and not publish it', async () => {
    const relayUser = await login('relay-lobby', urls.mqttUrl, { clientId: 'time-reader' })
    await relayUser.subscribe('server/time')
    const time = await relayUser.waitFor((m) => m.topic === 'server/time', 5_000, 'server/time')
    expect(Date.parse(time.text)).not.toBeNaN()
    const forger = await login('relay-lobby', urls.mqttUrl, { clientId: 'time-forger' })
    await publishMaybeRefused(forger, 'server/time', '1999-01-01T00:00:00.000Z')
    await fenceOnLobby('after-time-forgery')
    expect(relayUser.messages.filter((m) => m.topic === 'server/time' && m.text.startsWith('1999'))).toEqual([])
  })

  it('never lets a relay read another relay\'s jobs or publish its results', async () => {
    const spy = await login('relay-lobby', urls.mqttUrl, { clientId: 'spy-relay' })
    for (const filter of ['printers/bar/jobs', 'printers/+/jobs', '#']) await subscribeMaybeRefused(spy, filter)
    await publishMaybeRefused(spy, 'printers/bar/responses', JSON.stringify({ jobId: 'relay-forged', printerId: 'bar', status: 'printed', bytes: 1, durationMs: 1, at: new Date().toISOString() }))
    const spy2 = await login('relay-lobby', urls.mqttUrl, { clientId: 'spy-relay-2' })
    await publishMaybeRefused(spy2, 'printers/bar/jobs', JSON.stringify({ id: 'relay-print', data: '<RC1,1>relay-print<p>' }))
    await fenceOnBar()
    expect(spy.messages.filter((m) => m.topic.startsWith('printers/bar/')).map((m) => m.topic)).toEqual([])
    expect(watcher.messages.some((m) => m.json?.jobId === 'relay-forged')).toBe(false)
    expect(ticketsWith(bar, 'relay-print')).toBe(0)
  })

  it('lets a client cancel its printer\'s job, and the printer\'s relay read the cancel (SPEC "No relay, cancel")', async () => {
    const alice = await login('alice')
    await alice.subscribe('printers/lobby/responses', 'printers/lobby/errors')
    // Cancelled before it arrives: answered at once, and again when the job comes.
    await alice.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'alice-cancelled' }))
    expect((await alice.outcome('lobby', 'alice-cancelled')).json).toMatchObject({ code: 'JOB_CANCELLED', printerId: 'lobby', retryable: false })
    await alice.publish('printers/lobby/jobs', JSON.stringify({ id: 'alice-cancelled', data: '<RC1,1>alice-cancelled<p>' }))
    await expect.poll(() => alice.messages.filter((m) => m.json?.jobId === 'alice-cancelled').map((m) => m.json.code)).toEqual(['JOB_CANCELLED', 'JOB_CANCELLED'])
    await fenceOnLobby('after-cancel', alice)
    expect(ticketsWith(lobby, 'alice-cancelled')).toBe(0)
  })

  it('never lets a client of another printer, or a relay, cancel a job', async () => {
    const bob = await login('bob')
    expect(['acknowledged', 'closed']).toContain(await publishMaybeRefused(bob, 'printers/lobby/cancel', JSON.stringify({ jobId: 'bob-cancels' })))
    const relayUser = await login('relay-lobby', urls.mqttUrl, { clientId: 'cancel-forger' })
    expect(['acknowledged', 'closed']).toContain(await publishMaybeRefused(relayUser, 'printers/lobby/cancel', JSON.stringify({ jobId: 'relay-cancels' })))
    const alice = await login('alice')
    await alice.subscribe('printers/lobby/responses', 'printers/lobby/errors')
    for (const id of ['bob-cancels', 'relay-cancels']) {
      await alice.publish('printers/lobby/jobs', JSON.stringify({ id, data: `<RC1,1>${id}<p>` }))
      expect((await alice.outcome('lobby', id)).json).toMatchObject({ status: 'printed' })
      expect(ticketsWith(lobby, id)).toBe(1)
    }
  })

  it('never delivers a cancel to a client, nor another printer\'s cancel to a relay', async () => {
    const alice = await login('alice')
    for (const filter of ['printers/lobby/cancel', 'printers/bar/cancel', 'printers/+/cancel']) await subscribeMaybeRefused(alice, filter)
    const spy = await login('relay-lobby', urls.mqttUrl, { clientId: 'cancel-spy' })
    for (const filter of ['printers/bar/cancel', 'printers/+/cancel']) await subscribeMaybeRefused(spy, filter)
    await alice.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'alice-leak-probe' }))
    await bob.publish('printers/bar/cancel', JSON.stringify({ jobId: 'bob-leak-probe' }))
    expect((await bob.outcome('bar', 'bob-leak-probe')).json).toMatchObject({ code: 'JOB_CANCELLED' })
    await fenceOnBar()
    await fenceOnLobby('after-cancel-probes', watcher)
    expect(alice.messages.filter((m) => m.topic.endsWith('/cancel')).map((m) => m.topic)).toEqual([])
    expect(spy.messages.filter((m) => m.topic.startsWith('printers/bar/')).map((m) => m.topic)).toEqual([])
  })
})
