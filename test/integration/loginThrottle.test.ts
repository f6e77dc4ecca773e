/**
 * Log-in backoff (issue #10, finding 6): wrong passwords cost time per address and per user and address, a
 * refusal during backoff says nothing about the password, other addresses keep logging in, and a refused
 * log-in's client-chosen strings reach the log clipped. Real mqtt.js clients against the embedded broker,
 * each from its own loopback address (127.0.0.x) where it matters.
 */
import { connect as tcpConnect } from 'node:net'
import mqtt, { type MqttClient } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { addressGroup } from '../../access/loginThrottle.ts'
import { loadBrokerConfig } from '../../broker/config.ts'
import { PrintwireBroker } from '../../broker/mqttBroker.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { captureLog } from '../../harness/logCapture.ts'
import { Cleanup, startBroker, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** CONNACK return codes. */
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

type Transport = 'tcp' | 'ws'

interface Target { mqttPort: number, httpPort: number }

/**
 * One log-in from `from` (a loopback address): 'ok', or the CONNACK return code of the refusal. The
 * connection is closed either way.
 */
async function login (target: Target, transport: Transport, from: string, username: string, password: string, clientId?: string): Promise<'ok' | number> {
  const options = { protocolVersion: 4 as const, reconnectPeriod: 0, connectTimeout: 10_000, username, password, ...(clientId === undefined ? {} : { clientId }) }
  const client: MqttClient = transport === 'tcp'
    // mqtt.js's own TCP transport cannot bind a local address; its client takes any stream.
    ? new mqtt.MqttClient(() => tcpConnect({ host: '127.0.0.1', port: target.mqttPort, localAddress: from }), options)
    : mqtt.connect(`ws://127.0.0.1:${target.httpPort}/mqtt`, { ...options, wsOptions: { localAddress: from } })
  try {
    return await new Promise<'ok' | number>((resolve, reject) => {
      client.once('connect', () => resolve('ok'))
      client.once('error', (error) => {
        const code = (error as { code?: unknown }).code
        if (typeof code === 'number') resolve(code)
        else reject(error)
      })
      client.once('close', () => reject(new Error('closed without a CONNACK')))
    })
  } finally {
    client.end(true)
  }
}

async function brokerWithUsers (env: Record<string, string>): Promise<Target> {
  const authFile = `${await tempDir(cleanup)}/auth.json`
  await writeTestUsers(authFile)
  const started = cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1', ...env }))
  return { mqttPort: started.broker.mqttPort, httpPort: started.broker.httpPort }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe.each<Transport>(['tcp', 'ws'])('log-in backoff over %s', (transport) => {
  it('after the wrong passwords allowed, refuses even the right one from that address until the block ends; other addresses and users log in meanwhile', async () => {
    const blockMs = 1500
    const target = await brokerWithUsers({ LOGIN_FAILURES_PER_USER_ADDRESS: '3', LOGIN_FAILURES_PER_ADDRESS: '10', LOGIN_BLOCK_MS: String(blockMs) })
    for (let i = 0; i < 3; i++) expect(await login(target, transport, '127.0.0.1', 'alice', `guess-${i}`)).toBe(BAD_USERNAME_OR_PASSWORD)
    const blockedAt = Date.now()
    // The same refusal whether the password is right or wrong: it is not checked.
    expect(await login(target, transport, '127.0.0.1', 'alice', PASSWORDS.alice)).toBe(NOT_AUTHORIZED)
    expect(await login(target, transport, '127.0.0.1', 'alice', 'guess-x')).toBe(NOT_AUTHORIZED)
    // Meanwhile alice from another address, and another user from this one.
    expect(await login(target, transport, '127.0.0.2', 'alice', PASSWORDS.alice)).toBe('ok')
    expect(await login(target, transport, '127.0.0.1', 'bob', PASSWORDS.bob)).toBe('ok')
    // Once the block is over, the right password from the first address works again.
    await sleep(blockMs - (Date.now() - blockedAt) + 100)
    expect(await login(target, transport, '127.0.0.1', 'alice', PASSWORDS.alice)).toBe('ok')
  })
})

describe('log-in backoff', () => {
  it('blocks an address that guesses across user names, for every user, and no other address', async () => {
    const target = await brokerWithUsers({ LOGIN_FAILURES_PER_USER_ADDRESS: '2', LOGIN_FAILURES_PER_ADDRESS: '4' })
    for (const user of ['alice', 'bob', 'nobody', 'ops']) expect(await login(target, 'tcp', '127.0.0.3', user, 'wrong')).toBe(BAD_USERNAME_OR_PASSWORD)
    expect(await login(target, 'tcp', '127.0.0.3', 'relay-bar', PASSWORDS['relay-bar'])).toBe(NOT_AUTHORIZED)
    expect(await login(target, 'tcp', '127.0.0.4', 'relay-bar', PASSWORDS['relay-bar'])).toBe('ok')
  })

  it('when one user is guessed at from many addresses, allows each address one wrong password for that user, and still lets the user in', async () => {
    const target = await brokerWithUsers({ LOGIN_FAILURES_PER_USER: '4', LOGIN_FAILURES_PER_USER_ADDRESS: '3', LOGIN_FAILURES_PER_ADDRESS: '10' })
    for (const from of ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4']) expect(await login(target, 'tcp', from, 'alice', 'wrong')).toBe(BAD_USERNAME_OR_PASSWORD)
    expect(await login(target, 'tcp', '127.0.1.5', 'alice', 'wrong')).toBe(BAD_USERNAME_OR_PASSWORD)
    expect(await login(target, 'tcp', '127.0.1.5', 'alice', 'wrong again')).toBe(NOT_AUTHORIZED)
    expect(await login(target, 'tcp', '127.0.1.6', 'alice', PASSWORDS.alice)).toBe('ok')
    // Other users are not concerned.
    expect(await login(target, 'tcp', '127.0.1.5', 'bob', 'wrong')).toBe(BAD_USERNAME_OR_PASSWORD)
  })

  it('gives guesses sent all at once no more tries than guesses in a row; identical log-ins at once are one', async () => {
    const target = await brokerWithUsers({ LOGIN_FAILURES_PER_USER_ADDRESS: '3', LOGIN_FAILURES_PER_ADDRESS: '30' })
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => login(target, 'tcp', '127.0.0.5', 'alice', `parallel-${i}`)))
    expect(answers.filter((a) => a === BAD_USERNAME_OR_PASSWORD)).toHaveLength(3)
    expect(answers.filter((a) => a === NOT_AUTHORIZED)).toHaveLength(17)
    // A relay's connections for its printers log in together with one password: none is refused.
    const relays = await Promise.all(Array.from({ length: 10 }, (_, i) => login(target, 'tcp', '127.0.0.6', 'bob', PASSWORDS.bob, `bob-${i}`)))
    expect(relays).toEqual(Array(10).fill('ok'))
  })

  it('logs a refused log-in with the user name and client id clipped, at every level', async () => {
    const log = captureLog('debug')
    const authFile = `${await tempDir(cleanup)}/auth.json`
    await writeTestUsers(authFile)
    const broker = cleanup.add(new PrintwireBroker({ config: loadBrokerConfig({ PORT: '0', MQTT_PORT: '0', PERSISTENCE: 'memory', AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1' }), logger: log.logger }))
    await broker.start()
    const longName = 'u'.repeat(60 * 1024)
    const longId = 'c'.repeat(20_000)
    expect(await login({ mqttPort: broker.mqttPort, httpPort: broker.httpPort }, 'tcp', '127.0.0.7', longName, 'wrong', longId)).toBe(BAD_USERNAME_OR_PASSWORD)
    const refusal = log.entries().find((entry) => entry.msg === 'connection refused')
    expect(refusal).toMatchObject({ level: 40, reason: 'BAD_CREDENTIALS', remote: '127.0.0.7' })
    expect(refusal?.user).toMatch(/^u{64}…\(61376 more chars\)$/)
    expect(refusal?.clientId).toMatch(/^c{64}…\(19936 more chars\)$/)
    expect(log.text()).not.toContain('u'.repeat(200))
    expect(log.text()).not.toContain('c'.repeat(200))
  })
})

describe('log-in backoff settings', () => {
  it('names each bad one', () => {
    expect(() => loadBrokerConfig({ LOGIN_FAILURES_PER_ADDRESS: '0', LOGIN_BLOCK_MS: 'soon', LOGIN_FAILURE_WINDOW_MS: '-1' })).toThrow(
      /LOGIN_FAILURES_PER_ADDRESS: must be above 0[\s\S]*LOGIN_FAILURE_WINDOW_MS: must be a whole number[\s\S]*LOGIN_BLOCK_MS: must be a whole number/)
    expect(() => loadBrokerConfig({ LOGIN_FAILURES_PER_ADDRESS: '3', LOGIN_FAILURES_PER_USER_ADDRESS: '5' })).toThrow(
      /LOGIN_FAILURES_PER_USER_ADDRESS: cannot be above LOGIN_FAILURES_PER_ADDRESS \(3\)/)
  })

  it('has defaults', () => {
    const config = loadBrokerConfig({})
    expect([config.LOGIN_FAILURES_PER_ADDRESS, config.LOGIN_FAILURES_PER_USER_ADDRESS, config.LOGIN_FAILURES_PER_USER, config.LOGIN_FAILURE_WINDOW_MS, config.LOGIN_BLOCK_MS])
      .toEqual([30, 5, 100, 900_000, 300_000])
  })
})

describe('the address failures count against', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown']
  ])('%s → %s', (address, group) => {
    expect(addressGroup(address)).toBe(group)
  })
})
