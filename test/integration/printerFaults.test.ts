/**
 * Printer faults the relay must handle (SPEC "Delivery", BOCA.md), against the real simulator: jams,
 * a hung printer, a dropped connection, and random payloads on the jobs topic.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function setup (relayExtra: Record<string, string> = {}): Promise<{ sim: BocaSimulator, client: TestClient }> {
  const broker = cleanup.add(await startBroker())
  const sim = cleanup.add(await startPrinter())
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
  cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), relayExtra)))
  await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
  return { sim, client }
}

const job = (id: string, extra: object = {}): string => JSON.stringify({ id, data: `${id}<p>`, ...extra })

describe('printer faults', () => {
  for (const [state, condition] of [['paper-jam', /jam/], ['cutter-jam', /cutter jam/]] as const) {
    it(`reports ${state} as PRINTER_ERROR with the decoded condition, keeps the job, and prints it once ready`, async () => {
      const { sim, client } = await setup()
      await sim.setState(state)
      await client.publish('printers/lobby/jobs', job('j-1'))
      const error = await client.outcome('lobby', 'j-1')
      expect(error.json).toMatchObject({ code: 'PRINTER_ERROR', retryable: true })
      expect(error.json.message).toMatch(condition)
      const status = await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'error')
      expect(status.json.detail).toMatch(condition)
      await sim.setState('ready')
      expect((await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'j-1')).json.status).toBe('printed')
      expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['j-1<p>'])
      await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online' && client.messages.indexOf(m) > client.messages.indexOf(status))
    })
  }

  it('prints the remaining copies after a fault, not the ones already printed', async () => {
    const { sim, client } = await setup()
    // Paper runs out after the first copy's ACK.
    sim.once('ticket', () => { void sim.setState('paper-out') })
    await client.publish('printers/lobby/jobs', job('c-1', { copies: 3 }))
    const error = await client.outcome('lobby', 'c-1')
    expect(error.json.code).toBe('PRINTER_ERROR')
    expect(sim.tickets).toHaveLength(1)
    await sim.setState('ready')
    const result = await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'c-1')
    expect(result.json).toMatchObject({ status: 'printed', printer: { acks: 3, expectedAcks: 3 } })
    expect(sim.tickets).toHaveLength(3)
  })

  it('reports PRINTER_TIMEOUT, not `sent`, when a printer that reports status hangs after taking a job', async () => {
    const { sim, client } = await setup()
    await client.publish('printers/lobby/jobs', job('before-hang'))
    expect((await client.outcome('lobby', 'before-hang')).json.status).toBe('printed')
    await sim.setState('hang')
    await client.publish('printers/lobby/jobs', job('hung'))
    const error = await client.outcome('lobby', 'hung')
    expect(error.json).toMatchObject({ code: 'PRINTER_TIMEOUT', retryable: false })
    expect(client.messages.some((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'hung')).toBe(false)
  })

  it('reports UNCERTAIN when the printer drops the connection after taking the bytes, and prints the next job', async () => {
    const { sim, client } = await setup()
    sim.dropConnections(1)
    await client.publish('printers/lobby/jobs', job('dropped'))
    const error = await client.outcome('lobby', 'dropped')
    expect(error.json).toMatchObject({ code: 'UNCERTAIN', retryable: false })
    expect(sim.droppedConnections).toBe(1)
    await client.publish('printers/lobby/jobs', job('next'))
    expect((await client.outcome('lobby', 'next')).json.status).toBe('printed')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['next<p>'])
  })

  it('gives JOB_EXPIRED to a kept job whose expiresAt passes while the printer is unreachable', async () => {
    const { sim, client } = await setup()
    await sim.setState('offline')
    await client.publish('printers/lobby/jobs', job('soon', { expiresAt: new Date(Date.now() + 800).toISOString() }))
    expect((await client.outcome('lobby', 'soon')).json.code).toBe('PRINTER_UNREACHABLE')
    const expired = await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === 'soon' && m.json?.code === 'JOB_EXPIRED')
    expect(expired.json.retryable).toBe(false)
    await sim.setState('ready')
    await client.publish('printers/lobby/jobs', job('fresh'))
    await client.outcome('lobby', 'fresh')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['fresh<p>'])
  })
})

describe('JOB_MAX_AGE', () => {
  it('gives up a job that waited longer than JOB_MAX_AGE for its printer', async () => {
    const { sim, client } = await setup({ JOB_MAX_AGE: '1' })
    await sim.setState('offline')
    await client.publish('printers/lobby/jobs', job('aged'))
    expect((await client.outcome('lobby', 'aged')).json.code).toBe('PRINTER_UNREACHABLE')
    const expired = await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === 'aged' && m.json?.code === 'JOB_EXPIRED')
    expect(expired.json.message).toContain('JOB_MAX_AGE')
    await sim.setState('ready')
    await client.publish('printers/lobby/jobs', job('young'))
    await client.outcome('lobby', 'young')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['young<p>'])
  })
})

describe('random payloads on the jobs topic', () => {
  it('answers each bad payload with its error, never crashes, and prints a good job afterwards', async () => {
    const { sim, client } = await setup()
    let seed = 7
    const next = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
    const payloads: Buffer[] = []
    for (let i = 0; i < 60; i++) {
      const n = next() % 200
      const bytes = Buffer.from(Array.from({ length: n }, () => next() & 0xff))
      // Half of them look like envelopes, so the JSON path is exercised too.
      payloads.push(i % 2 === 0 ? Buffer.concat([Buffer.from('{'), bytes]) : Buffer.concat([Buffer.from(' \n{"id": "f-'), Buffer.from(String(i)), Buffer.from('", "data": '), bytes, Buffer.from('}')]))
    }
    payloads.push(Buffer.alloc(0), Buffer.from('   '), Buffer.from('{}'), Buffer.from('{"data": 1}'), Buffer.from('{"data": "x", "copies": 1e9}'))
    for (const payload of payloads) await client.publish('printers/lobby/jobs', payload)
    await client.publish('printers/lobby/jobs', job('good'))
    expect((await client.outcome('lobby', 'good')).json.status).toBe('printed')
    const errors = client.messages.filter((m) => m.topic === 'printers/lobby/errors')
    expect(errors).toHaveLength(payloads.length)
    expect(new Set(errors.map((m) => m.json.code))).toEqual(new Set(['INVALID_JOB']))
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['good<p>'])
  })
})
