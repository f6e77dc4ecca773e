/**
 * The core pipeline end to end with real parts: publisher → embedded broker → relay → simulated Boca
 * printer → results back on `responses`/`errors`/`status`.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'

const run = promisify(execFile)
const cleanup = new Cleanup()
let broker: StartedBroker
let client: TestClient

beforeEach(async () => {
  broker = cleanup.add(await startBroker())
  client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/+/responses', 'printers/+/errors', 'printers/+/status')
})
afterEach(() => cleanup.closeAll())

async function relayFor (printers: Record<string, BocaSimulator | string>, extra: Record<string, string> = {}): Promise<void> {
  cleanup.add(await startRelay(relayEnv(broker.mqttUrl, printers, await tempDir(cleanup), extra)))
  for (const id of Object.keys(printers)) {
    await client.waitFor((m) => m.topic === `printers/${id}/status` && m.json?.state !== 'offline', 10_000, `${id} status`)
  }
}

async function printer (): Promise<BocaSimulator> {
  return cleanup.add(await startPrinter())
}

describe('core pipeline', () => {
  it('prints a raw job published with the real mosquitto_pub byte for byte', async () => {
    const sim = await printer()
    await relayFor({ lobby: sim })
    const job = '<RC10,10><F3>Hello<p>'
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.broker.mqttPort), '-q', '1', '-t', 'printers/lobby/jobs', '-m', job])
    const [ticket] = await sim.waitForTickets(1, 10_000)
    expect(ticket?.bytes.toString('latin1')).toBe(job)
    const result = await client.waitFor((m) => m.topic === 'printers/lobby/responses')
    expect(result.json).toMatchObject({ printerId: 'lobby', status: 'printed', bytes: job.length, printer: { acks: 1, expectedAcks: 1 } })
    expect(result.json.jobId).toMatch(/^relay-/)
    expect(typeof result.json.durationMs).toBe('number')
    expect(Date.parse(result.json.at)).not.toBeNaN()
  })

  it('delivers an envelope whose base64 data holds every byte value exactly', async () => {
    const sim = await printer()
    await relayFor({ lobby: sim })
    const graphics = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const data = Buffer.concat([Buffer.from('<RC0,0><G256>'), graphics, Buffer.from('<p>')])
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'bytes-1', data: data.toString('base64'), encoding: 'base64' }))
    const result = await client.outcome('lobby', 'bytes-1')
    expect(result.json).toMatchObject({ status: 'printed', bytes: data.length })
    expect(sim.tickets).toHaveLength(1)
    expect(sim.tickets[0]?.bytes.equals(data)).toBe(true)
  })

  it('prints an envelope with utf8 text and copies, counting one ACK per copy', async () => {
    const sim = await printer()
    await relayFor({ lobby: sim })
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'copies-1', data: '<RC10,10>Café ✓<p>', copies: 3 }))
    const result = await client.outcome('lobby', 'copies-1')
    expect(result.json).toMatchObject({ status: 'printed', printer: { acks: 3, expectedAcks: 3 } })
    expect(sim.tickets.map((t) => t.bytes.toString('utf8'))).toEqual(Array(3).fill('<RC10,10>Café ✓<p>'))
  })

  it('gives two printers on one relay only their own jobs', async () => {
    const a = await printer()
    const b = await printer()
    await relayFor({ lobby: a, bar: b })
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'a-1', data: 'lobby one<p>' }))
    await client.publish('printers/bar/jobs', JSON.stringify({ id: 'b-1', data: 'bar one<p>' }))
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'a-2', data: 'lobby two<p>' }))
    await client.outcome('lobby', 'a-2')
    await client.outcome('bar', 'b-1')
    expect(a.tickets.map((t) => t.bytes.toString())).toEqual(['lobby one<p>', 'lobby two<p>'])
    expect(b.tickets.map((t) => t.bytes.toString())).toEqual(['bar one<p>'])
  })

  it('keeps a slow printer from delaying another', async () => {
    const slow = await startPrinter({ printDelayMs: 1000 })
    cleanup.add(slow)
    const fast = await printer()
    // A printer that reports status is given STATUS_WAIT_MS to say something before a job counts as `sent`.
    await relayFor({ slow: slow, fast: fast }, { STATUS_WAIT_MS: '5000' })
    await client.publish('printers/slow/jobs', JSON.stringify({ id: 's-1', data: 'slow<p>' }))
    await client.publish('printers/fast/jobs', JSON.stringify({ id: 'f-1', data: 'fast<p>' }))
    await client.outcome('fast', 'f-1')
    // The fast printer's result came while the slow one was still printing.
    expect(slow.tickets).toHaveLength(0)
    const slowResult = await client.outcome('slow', 's-1')
    expect(slowResult.json.status).toBe('printed')
  })

  it('answers an invalid envelope with INVALID_JOB naming the problem, and the next job still prints', async () => {
    const sim = await printer()
    await relayFor({ lobby: sim })
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'bad-1', data: 'x<p>', copies: 0 }))
    await client.publish('printers/lobby/jobs', '{"id": "bad-2", "data": ')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'bad-3', data: '!!!', encoding: 'base64' }))
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'good-1', data: 'fine<p>' }))
    const bad1 = await client.outcome('lobby', 'bad-1')
    expect(bad1.topic).toBe('printers/lobby/errors')
    expect(bad1.json).toMatchObject({ code: 'INVALID_JOB', printerId: 'lobby', retryable: false })
    expect(bad1.json.message).toContain('copies')
    const bad2 = await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === undefined)
    expect(bad2.json.code).toBe('INVALID_JOB')
    expect(bad2.json.message).toContain('not valid JSON')
    const bad3 = await client.outcome('lobby', 'bad-3')
    expect(bad3.json.message).toContain('base64')
    const good = await client.outcome('lobby', 'good-1')
    expect(good.json.status).toBe('printed')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['fine<p>'])
  })

  it('refuses a job larger than MAX_JOB_BYTES with JOB_TOO_LARGE, whole, and prints the next', async () => {
    const sim = await printer()
    await relayFor({ lobby: sim }, { MAX_JOB_BYTES: '1000' })
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'big-1', data: 'x'.repeat(1001) }))
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'ok-1', data: 'y'.repeat(996) + '<p>' }))
    const big = await client.outcome('lobby', 'big-1')
    expect(big.json).toMatchObject({ code: 'JOB_TOO_LARGE' })
    const ok = await client.outcome('lobby', 'ok-1')
    expect(ok.json.status).toBe('printed')
    expect(sim.tickets).toHaveLength(1)
  })

  it('does not print a job past its expiresAt', async () => {
    const sim = await printer()
    await relayFor({ lobby: sim })
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'old-1', data: 'stale<p>', expiresAt: '2020-01-01T00:00:00Z' }))
    const old = await client.outcome('lobby', 'old-1')
    expect(old.json).toMatchObject({ code: 'JOB_EXPIRED', retryable: false })
    expect(sim.tickets).toHaveLength(0)
  })

  it('reports `sent` when the printer accepts the bytes but reports no status', async () => {
    const sim = await startPrinter({ statusReporting: false })
    cleanup.add(sim)
    await relayFor({ lobby: sim })
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'quiet-1', data: 'quiet<p>' }))
    const result = await client.outcome('lobby', 'quiet-1')
    expect(result.json).toMatchObject({ status: 'sent', printer: { acks: 0, condition: 'none' } })
    expect(sim.tickets).toHaveLength(1)
  })
})

describe('printer faults', () => {
  it('reports PRINTER_UNREACHABLE once, keeps the job, and prints it when the printer is back', async () => {
    const sim = await printer()
    await sim.setState('offline')
    await relayFor({ lobby: sim })
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'u-1', data: 'later<p>' }))
    const error = await client.outcome('lobby', 'u-1')
    expect(error.json).toMatchObject({ code: 'PRINTER_UNREACHABLE', retryable: true, printerId: 'lobby' })
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'unreachable')
    await sim.setState('ready')
    const printed = await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'u-1')
    expect(printed.json.status).toBe('printed')
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online' && client.messages.indexOf(m) > client.messages.indexOf(error))
    expect(client.messages.filter((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === 'u-1')).toHaveLength(1)
    expect(sim.tickets).toHaveLength(1)
  })

  it('reports PRINTER_UNREACHABLE for a printer address where nothing listens', async () => {
    const sim = await printer()
    const address = sim.address
    await sim.stop()
    await relayFor({ lobby: address })
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'nobody-1', data: 'x<p>' }))
    const error = await client.outcome('lobby', 'nobody-1')
    expect(error.json.code).toBe('PRINTER_UNREACHABLE')
    expect(error.json.message).toContain('ECONNREFUSED')
  })

  it('reports paper out as PRINTER_ERROR that says paper, then prints once paper is loaded', async () => {
    const sim = await printer()
    await sim.setState('paper-out')
    await relayFor({ lobby: sim })
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'p-1', data: 'paper please<p>' }))
    const error = await client.outcome('lobby', 'p-1')
    expect(error.json).toMatchObject({ code: 'PRINTER_ERROR', retryable: true })
    expect(error.json.message).toMatch(/paper/i)
    const status = await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'error')
    expect(status.json.detail).toMatch(/paper/i)
    expect(sim.tickets).toHaveLength(0)
    await sim.setState('ready')
    const printed = await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'p-1')
    expect(printed.json.status).toBe('printed')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['paper please<p>'])
  })
})
