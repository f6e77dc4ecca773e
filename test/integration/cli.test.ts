/**
 * `printwire print` as users run it: the real `bin/printwire.js` in a child process (harness/cliRun.ts),
 * against a real embedded broker, a simulated Boca printer and an in-process relay.
 */
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { addUser } from '../../cli/userCommand.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { ROOT } from '../../harness/processes.ts'
import { CliRun, type CliExit } from '../../harness/cliRun.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

function cli (args: string[], stdin?: Buffer, env?: Record<string, string>): CliRun {
  return new CliRun(cleanup, args, stdin, env)
}

/** The job's bytes a user might print: FGL with a 256-byte graphic holding every byte value. */
function graphicsTicket (label: string): Buffer {
  const graphics = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  return Buffer.concat([Buffer.from(`<RC10,10><F3>${label}<RC40,10><G256>`), graphics, Buffer.from('<p>')])
}

/** A broker, a printer and a relay serving it as `lobby`, with the relay's status seen online. */
async function system (): Promise<{ broker: StartedBroker, sim: BocaSimulator, dir: string }> {
  const broker = cleanup.add(await startBroker())
  const sim = cleanup.add(await startPrinter())
  const dir = await tempDir(cleanup)
  const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await watcher.subscribe('printers/lobby/status')
  cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, path.join(dir, 'state'))))
  await watcher.waitFor((m) => m.json?.state === 'online', 10_000, 'lobby online')
  return { broker, sim, dir }
}

function resultOf (run: CliExit): Record<string, any> {
  const lines = run.stdout.trim().split('\n')
  expect(lines, 'stdout is one line of JSON').toHaveLength(1)
  return JSON.parse(lines[0] ?? '') as Record<string, any>
}

describe('printwire print, with a relay and a printer', () => {
  it('prints a binary file byte for byte, exits 0 and writes the result as JSON on stdout', async () => {
    const { broker, sim, dir } = await system()
    const job = graphicsTicket('file')
    const file = path.join(dir, 'ticket.fgl')
    await writeFile(file, job)
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, file]).exit()
    expect(run.code, run.stderr).toBe(0)
    const result = resultOf(run)
    expect(result).toMatchObject({ printerId: 'lobby', status: 'printed', bytes: job.length, printer: { acks: 1, expectedAcks: 1 } })
    expect(result.jobId).toMatch(/^cli-/)
    expect(sim.tickets).toHaveLength(1)
    expect(sim.tickets[0]?.bytes.equals(job)).toBe(true)
    expect(run.stderr).toContain('published to lobby')
  })

  it('reads the job from stdin when no file is given', async () => {
    const { broker, sim } = await system()
    const job = graphicsTicket('stdin')
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--id', 'stdin-1'], job).exit()
    expect(run.code, run.stderr).toBe(0)
    expect(resultOf(run)).toMatchObject({ jobId: 'stdin-1', status: 'printed', bytes: job.length })
    expect(sim.tickets).toHaveLength(1)
    expect(sim.tickets[0]?.bytes.equals(job)).toBe(true)
  })

  it('reads stdin for "-" too', async () => {
    const { broker, sim } = await system()
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '-'], Buffer.from('<RC1,1>dash<p>')).exit()
    expect(run.code, run.stderr).toBe(0)
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['<RC1,1>dash<p>'])
  })

  it('prints --copies 2 as two tickets', async () => {
    const { broker, sim, dir } = await system()
    const file = path.join(dir, 'two.fgl')
    await writeFile(file, '<RC10,10>twice<p>')
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--copies', '2', file]).exit()
    expect(run.code, run.stderr).toBe(0)
    expect(resultOf(run)).toMatchObject({ status: 'printed', printer: { acks: 2, expectedAcks: 2 } })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['<RC10,10>twice<p>', '<RC10,10>twice<p>'])
  })

  it('exits 1 with JOB_EXPIRED on stderr for a job past --expires-at, and nothing prints', async () => {
    const { broker, sim, dir } = await system()
    const file = path.join(dir, 'stale.fgl')
    await writeFile(file, '<RC10,10>stale<p>')
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--expires-at', '2020-01-01T00:00:00Z', file]).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('JOB_EXPIRED')
    expect(run.stdout).toBe('')
    expect(sim.tickets).toHaveLength(0)
  })

  it('shows PRINTER_UNREACHABLE while the printer is offline, waits, and exits 0 once it printed', async () => {
    const { broker, sim, dir } = await system()
    await sim.setState('offline')
    const file = path.join(dir, 'later.fgl')
    await writeFile(file, '<RC10,10>later<p>')
    const run = cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, file])
    await run.waitForStderr('PRINTER_UNREACHABLE')
    await run.waitForStderr('(waiting)')
    expect(run.child.exitCode).toBeNull()
    expect(sim.tickets).toHaveLength(0)
    await sim.setState('ready')
    const done = await run.exit()
    expect(done.code, done.stderr).toBe(0)
    expect(resultOf(done)).toMatchObject({ status: 'printed' })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['<RC10,10>later<p>'])
  })

  it('refuses a job the relay finds too large, with JOB_TOO_LARGE, and prints nothing', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const dir = await tempDir(cleanup)
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, path.join(dir, 'state'), { MAX_JOB_BYTES: '100' })))
    await watcher.waitFor((m) => m.json?.state === 'online', 10_000, 'lobby online')
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl], Buffer.alloc(101, 0x41)).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('JOB_TOO_LARGE')
    expect(sim.tickets).toHaveLength(0)
  })
})

describe('printwire print, with a TOPIC_PREFIX', () => {
  it('publishes under TOPIC_PREFIX from the environment, and --prefix overrides it', async () => {
    // Before: print took its prefix from --prefix only (default `printers`), while mosquitto-export honoured TOPIC_PREFIX.
    const broker = cleanup.add(await startBroker({ TOPIC_PREFIX: 'venue/tickets' }))
    const sim = cleanup.add(await startPrinter())
    const dir = await tempDir(cleanup)
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('venue/tickets/lobby/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, path.join(dir, 'state'), { TOPIC_PREFIX: 'venue/tickets' })))
    await watcher.waitFor((m) => m.json?.state === 'online', 10_000, 'lobby online under venue/tickets')

    const fromEnv = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--timeout', '10000'], Buffer.from('<RC1,1>env prefix<p>'), { TOPIC_PREFIX: 'venue/tickets' }).exit()
    expect(fromEnv.code, fromEnv.stderr).toBe(0)
    expect(resultOf(fromEnv)).toMatchObject({ printerId: 'lobby', status: 'printed' })

    const fromFlag = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--timeout', '10000', '--prefix', 'venue/tickets'], Buffer.from('<RC1,1>flag prefix<p>'), { TOPIC_PREFIX: 'elsewhere' }).exit()
    expect(fromFlag.code, fromFlag.stderr).toBe(0)
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['<RC1,1>env prefix<p>', '<RC1,1>flag prefix<p>'])
  })
})

describe('printwire print, refusing bad input before anything is sent', () => {
  it('refuses --copies 0, 101 and non-numbers with a clear message', async () => {
    for (const copies of ['0', '101', 'two', '1.5']) {
      const run = await cli(['print', '--printer', 'lobby', '--url', 'mqtt://127.0.0.1:1', '--copies', copies], Buffer.from('x<p>')).exit()
      expect(run.code, copies).not.toBe(0)
      expect(run.stderr).toContain('--copies')
      expect(run.stderr).toContain('whole number from 1 to 100')
      expect(run.stdout).toBe('')
    }
  })

  it('refuses a --wait-for-printer that is not a whole number of milliseconds from 1', async () => {
    for (const ms of ['0', '-5', 'soon', '2.5']) {
      const run = await cli(['print', '--printer', 'lobby', '--url', 'mqtt://127.0.0.1:1', '--wait-for-printer', ms], Buffer.from('x<p>')).exit()
      expect(run.code, ms).not.toBe(0)
      expect(run.stderr).toContain('--wait-for-printer')
      expect(run.stderr).toContain('whole number from 1 to 86400000')
      expect(run.stdout).toBe('')
    }
  })

  it('requires --printer and refuses an invalid printer id', async () => {
    const missing = await cli(['print', '--url', 'mqtt://127.0.0.1:1'], Buffer.from('x<p>')).exit()
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain('--printer')
    const invalid = await cli(['print', '--printer', 'lobby/#', '--url', 'mqtt://127.0.0.1:1'], Buffer.from('x<p>')).exit()
    expect(invalid.code).toBe(1)
    expect(invalid.stderr).toContain('INVALID_ARGUMENT')
    expect(invalid.stderr).toContain('lobby/#')
  })

  it('refuses an empty input', async () => {
    const run = await cli(['print', '--printer', 'lobby', '--url', 'mqtt://127.0.0.1:1'], Buffer.alloc(0)).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('nothing to print')
  })

  it('refuses a missing file, naming it', async () => {
    const run = await cli(['print', '--printer', 'lobby', '--url', 'mqtt://127.0.0.1:1', path.join(ROOT, 'no-such-ticket.fgl')]).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('no-such-ticket.fgl')
  })

  it('refuses a topic prefix with wildcards at once, without waiting or crashing', async () => {
    // With a real broker: before the check, the subscription failed, the timer was left running, and the
    // process crashed with an unhandled rejection when --timeout ran out.
    const broker = cleanup.add(await startBroker())
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--prefix', '#', '--timeout', '60000'], Buffer.from('x<p>')).exit(15_000)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('INVALID_ARGUMENT')
    expect(run.stderr).not.toMatch(/Unhandled|\n\s+at /)
  })
})

describe('printwire print, when the broker cannot be reached', () => {
  it('exits 1 at once with a clear message when nothing listens at the URL', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`
    const run = await cli(['print', '--printer', 'lobby', '--url', url], Buffer.from('x<p>')).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`cannot connect to the broker at ${url}`)
    expect(run.stderr).toContain('ECONNREFUSED')
    expect(run.stdout).toBe('')
  })

  it('exits 1 with a clear message when the host name does not resolve', async () => {
    const run = await cli(['print', '--printer', 'lobby', '--url', 'mqtt://printwire-test.invalid:1883'], Buffer.from('x<p>')).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('cannot connect to the broker at mqtt://printwire-test.invalid:1883')
  })

  it('exits 1 with a clear message when the URL is not a broker URL', async () => {
    const run = await cli(['print', '--printer', 'lobby', '--url', 'localhost'], Buffer.from('x<p>')).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--url "localhost": the broker URL must be mqtt://, mqtts://, ws:// or wss://')
  })

  it('gives up, with a clear message, on a server that accepts the connection but never answers', async () => {
    const sockets = new Set<net.Socket>()
    const silent = net.createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cleanup.defer(() => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      silent.close(() => resolve())
    }))
    const url = `mqtt://127.0.0.1:${(silent.address() as net.AddressInfo).port}`
    const run = await cli(['print', '--printer', 'lobby', '--url', url], Buffer.from('x<p>')).exit(25_000)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`cannot connect to the broker at ${url}`)
    expect(run.stdout).toBe('')
  })
})

describe('printwire print, with access control', () => {
  it('prints as a user of the printer; refuses a wrong password and a printer the user may not use, with clear codes', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await writeTestUsers(authFile)
    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1' }))
    const lobby = cleanup.add(await startPrinter())
    const bar = cleanup.add(await startPrinter())
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl, { username: 'ops', password: PASSWORDS.ops }))
    await watcher.subscribe('printers/+/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby, bar }, path.join(dir, 'state'), { MQTT_USERNAME: 'ops', MQTT_PASSWORD: PASSWORDS.ops })))
    for (const id of ['lobby', 'bar']) await watcher.waitFor((m) => m.topic === `printers/${id}/status` && m.json?.state === 'online', 10_000, `${id} online`)
    const as = (password: string): Record<string, string> => ({ MQTT_USERNAME: 'alice', MQTT_PASSWORD: password })

    const printed = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl], Buffer.from('<RC1,1>as alice<p>'), as(PASSWORDS.alice)).exit()
    expect(printed.code, printed.stderr).toBe(0)
    expect(resultOf(printed).status).toBe('printed')

    const wrong = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl], Buffer.from('<RC1,1>wrong password<p>'), as('nope')).exit()
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/LOGIN_REFUSED: the broker at .* refused the log-in of user "alice": check MQTT_USERNAME and MQTT_PASSWORD/)

    const elsewhere = await cli(['print', '--printer', 'bar', '--url', broker.mqttUrl], Buffer.from('<RC1,1>alice on bar<p>'), as(PASSWORDS.alice)).exit()
    expect(elsewhere.code).toBe(1)
    expect(elsewhere.stderr).toMatch(/NOT_ALLOWED: the broker refused to send user "alice" the results of printer "bar": this user may not print on it; nothing was published/)
    expect(elsewhere.stdout).toBe('')
    expect(bar.tickets).toHaveLength(0)
    expect(lobby.tickets.map((t) => t.bytes.toString())).toEqual(['<RC1,1>as alice<p>'])
  })

  it('stops with PUBLISH_REFUSED when the broker closes the connection on the job (larger than it accepts)', async () => {
    const broker = cleanup.add(await startBroker({ MAX_JOB_BYTES: '1000' }))
    // The broker's limit is MAX_JOB_BYTES in a base64 envelope plus 64 KiB of headers: 200 KiB is over it.
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl], Buffer.alloc(200 * 1024, 0x41)).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/PUBLISH_REFUSED: the broker closed the connection when the job was published: the job is larger than the broker accepts/)
  })
})

describe('printwire print --wait-for-printer', () => {
  /**
   * Publishes a fence job itself and waits for it, delivered to the watcher or answered NO_RELAY (no relay session
   * at all): what the CLI published before it has arrived, or been answered, by then. The watcher subscribes to the
   * printer's jobs and errors.
   */
  async function jobsPublishedBefore (watcher: TestClient, printerId: string): Promise<string[]> {
    const jobs = `printers/${printerId}/jobs`
    const errors = `printers/${printerId}/errors`
    const fence = JSON.stringify({ id: 'fence', data: 'fence<p>' })
    await watcher.publish(jobs, fence)
    await watcher.waitFor((m) => (m.topic === jobs && m.text === fence) || (m.topic === errors && m.json?.jobId === 'fence'), 10_000, 'the fence job')
    return watcher.messages.filter((m) => (m.topic === jobs && m.text !== fence) || (m.topic === errors && m.json?.code === 'NO_RELAY' && m.json?.jobId !== 'fence')).map((m) => m.text)
  }

  it('publishes only once a relay serves the printer, then prints', async () => {
    // Without the wait the job would be lost: nobody is subscribed to its topic yet, so the broker drops it.
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const dir = await tempDir(cleanup)
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/lobby/jobs', 'printers/lobby/errors')
    const run = cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--wait-for-printer', '30000'], Buffer.from('<RC10,10>waited<p>'))
    await run.waitForStderr('for a relay to serve printer lobby')
    expect(await jobsPublishedBefore(watcher, 'lobby')).toEqual([])
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, path.join(dir, 'state'))))
    const done = await run.exit()
    expect(done.code, done.stderr).toBe(0)
    expect(resultOf(done)).toMatchObject({ printerId: 'lobby', status: 'printed' })
    expect(done.stderr).toContain('printer lobby is online, served by relay test-relay')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['<RC10,10>waited<p>'])
  })

  it('counts a relay that cannot reach its printer as serving it: publishes, shows PRINTER_UNREACHABLE, prints once the printer is back', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    await sim.setState('offline')
    const dir = await tempDir(cleanup)
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, path.join(dir, 'state'))))
    await watcher.waitFor((m) => m.json?.state === 'unreachable', 10_000, 'lobby unreachable')
    const run = cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--wait-for-printer', '30000'], Buffer.from('<RC10,10>kept<p>'))
    await run.waitForStderr('printer lobby is unreachable')
    await run.waitForStderr('PRINTER_UNREACHABLE')
    expect(sim.tickets).toHaveLength(0)
    await sim.setState('ready')
    const done = await run.exit()
    expect(done.code, done.stderr).toBe(0)
    expect(resultOf(done)).toMatchObject({ status: 'printed' })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['<RC10,10>kept<p>'])
  })

  it('exits 1 with NO_RELAY when no relay serves the printer in time, and publishes nothing', async () => {
    const broker = cleanup.add(await startBroker())
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/lobby/jobs', 'printers/lobby/errors')
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--wait-for-printer', '1000'], Buffer.from('<RC10,10>never<p>')).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('printwire: NO_RELAY: no relay served printer "lobby" within 1000 ms: no relay has announced it on this broker; nothing was published')
    expect(run.stdout).toBe('')
    expect(await jobsPublishedBefore(watcher, 'lobby')).toEqual([])
  })

  it('does not take a relay that has gone (status offline) for one, and says so', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const dir = await tempDir(cleanup)
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/lobby/status', 'printers/lobby/jobs', 'printers/lobby/errors')
    const relay = cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, path.join(dir, 'state'))))
    await watcher.waitFor((m) => m.json?.state === 'online', 10_000, 'lobby online')
    await relay.stop()
    await watcher.waitFor((m) => m.json?.state === 'offline', 10_000, 'lobby offline')
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--wait-for-printer', '1000'], Buffer.from('<RC10,10>gone<p>')).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('printer lobby is offline (relay stopped); waiting for a relay')
    expect(run.stderr).toContain('NO_RELAY: no relay served printer "lobby" within 1000 ms: its last status is offline (relay stopped) from relay test-relay')
    expect(await jobsPublishedBefore(watcher, 'lobby')).toEqual([])
    expect(sim.tickets).toHaveLength(0)
  })

  it('waits for the broker to come up, then for the relay, then prints', async () => {
    const port = await freePort()
    const url = `mqtt://127.0.0.1:${port}`
    const run = cli(['print', '--printer', 'lobby', '--url', url, '--wait-for-printer', '30000'], Buffer.from('<RC10,10>late broker<p>'))
    await run.waitForStderr(`cannot connect to the broker at ${url} yet`)
    await run.waitForStderr('retrying')
    const broker = cleanup.add(await startBroker({ MQTT_PORT: String(port) }))
    const sim = cleanup.add(await startPrinter())
    const dir = await tempDir(cleanup)
    await run.waitForStderr('for a relay to serve printer lobby')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, path.join(dir, 'state'))))
    const done = await run.exit()
    expect(done.code, done.stderr).toBe(0)
    expect(resultOf(done)).toMatchObject({ status: 'printed' })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['<RC10,10>late broker<p>'])
  })

  it('exits 1 with BROKER_UNREACHABLE when the broker does not come up in time', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`
    const run = await cli(['print', '--printer', 'lobby', '--url', url, '--wait-for-printer', '1500'], Buffer.from('x<p>')).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('retrying')
    expect(run.stderr).toContain(`printwire: BROKER_UNREACHABLE: cannot connect to the broker at ${url}: `)
    expect(run.stderr).toMatch(/ECONNREFUSED \S+ \(waited up to 1500 ms\)\n$/)
    expect(run.stdout).toBe('')
  })

  it('does not wait when the broker refuses the credentials: waiting would not change that', async () => {
    const dir = await tempDir(cleanup)
    const authFile = path.join(dir, 'auth.json')
    await addUser(authFile, 'alice', { password: 'alice-pw', role: 'client', printers: 'lobby' })
    const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1' }))
    const run = await cli(['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--wait-for-printer', '86400000'], Buffer.from('x<p>'), { MQTT_USERNAME: 'alice', MQTT_PASSWORD: 'wrong' }).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`LOGIN_REFUSED: the broker at ${broker.mqttUrl} refused the log-in of user "alice"`)
    expect(run.stderr).not.toContain('retrying')
    expect(run.stdout).toBe('')
  })
})
