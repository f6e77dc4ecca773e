/**
 * What the relay believes of a printer's replies (issue #10, finding 9), against the real simulator and a
 * real TCP server that answers like an HTTP server: status bytes read only in the form configured for that
 * printer (ASCII_STATUS_PRINTERS), replies that are not Boca status reported as such, and ACKs counted only
 * for tickets sent (a printer that ACKs twice, a printer in delayed status mode).
 */
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { BocaSimulator, BocaSimulatorConfig } from '../../printer-sim/bocaSimulator.ts'
import { loadRelayConfig } from '../../relay/config.ts'
import { ConfigError } from '../../runtime/config.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function setup (printer: BocaSimulator | string, relayExtra: Record<string, string> = {}): Promise<TestClient> {
  const broker = cleanup.add(await startBroker())
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
  cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: printer }, await tempDir(cleanup), relayExtra)))
  await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
  return client
}

async function simulator (config: Partial<BocaSimulatorConfig>): Promise<BocaSimulator> {
  return cleanup.add(await startPrinter(config))
}

/** A TCP server on 127.0.0.1 that answers whatever it is sent as an HTTP server does, and closes. */
async function startHttpLikeServer (): Promise<{ address: string, requests: () => number }> {
  let requests = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.once('data', () => {
      requests++
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup.defer(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resolve())
  }))
  const { port } = server.address() as net.AddressInfo
  return { address: `127.0.0.1:${port}`, requests: () => requests }
}

const job = (id: string, extra: object = {}): string => JSON.stringify({ id, data: `${id}<p>`, ...extra })

describe('replies that are not Boca status', () => {
  for (const [mode, extra] of [['plain status', {}], ['ASCII status', { ASCII_STATUS_PRINTERS: 'lobby' }]] as const) {
    it(`reports an HTTP server on the printer's port (${mode}) as a device that does not speak Boca status, with the bytes, never as a jam`, async () => {
      const http = await startHttpLikeServer()
      const client = await setup(http.address, extra)
      await client.publish('printers/lobby/jobs', job('to-http'))
      const error = await client.outcome('lobby', 'to-http')
      expect(error.json).toMatchObject({ code: 'PRINTER_ERROR', retryable: true })
      expect(error.json.message).toContain(`the device at ${http.address} does not speak Boca status`)
      // "HTTP/1.1 400 …", in hex, cut short.
      expect(error.json.message).toMatch(/it sent 48 54 54 50 2F 31 2E 31 20 34 30 30 .*… \(\d+ bytes\)/)
      expect(error.json.message).not.toMatch(/jam|paper/i)
      const status = await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'error')
      expect(status.json.detail).toContain('does not speak Boca status')
      expect(client.messages.some((m) => m.topic === 'printers/lobby/responses')).toBe(false)
    })
  }

  it('reads an ASCII-status printer only when it is configured so, and says which setting to change when it is not', async () => {
    const sim = await simulator({ statusEncoding: 'ascii' })
    const client = await setup(sim)
    await client.publish('printers/lobby/jobs', job('ascii-unconfigured'))
    const error = await client.outcome('lobby', 'ascii-unconfigured')
    expect(error.json.code).toBe('PRINTER_ERROR')
    expect(error.json.message).toMatch(/does not speak Boca status: it sent 36 \(Boca status in ASCII mode: .*ASCII_STATUS_PRINTERS\)/)
    expect(client.messages.some((m) => m.topic === 'printers/lobby/responses')).toBe(false)
  })

  it('decodes ASCII status for a printer in ASCII_STATUS_PRINTERS: ACKs and faults', async () => {
    const sim = await simulator({ statusEncoding: 'ascii' })
    const client = await setup(sim, { ASCII_STATUS_PRINTERS: 'lobby' })
    await client.publish('printers/lobby/jobs', job('ascii-1'))
    expect((await client.outcome('lobby', 'ascii-1')).json).toMatchObject({ status: 'printed', printer: { acks: 1, statusBytes: ['0x36'], condition: 'ticket-ack' } })
    await sim.setState('paper-jam')
    await client.publish('printers/lobby/jobs', job('ascii-2'))
    const error = await client.outcome('lobby', 'ascii-2')
    expect(error.json.code).toBe('PRINTER_ERROR')
    expect(error.json.message).toMatch(/paper jam \(paper-jam\)/)
    await sim.setState('ready')
    expect((await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'ascii-2')).json.status).toBe('printed')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['ascii-1<p>', 'ascii-2<p>'])
  })
})

describe('ACKs counted against tickets sent', () => {
  it('does not take a second ACK for a ticket as the next ticket\'s: a 2-ticket job is not `printed` when one printed', async () => {
    const sim = await simulator({ acksPerTicket: 2 })
    const client = await setup(sim)
    // Paper runs out once the first ticket has printed (and been acknowledged twice).
    sim.once('ticket', () => { void sim.setState('paper-out') })
    await client.publish('printers/lobby/jobs', job('double', { copies: 2 }))
    const first = await client.outcome('lobby', 'double')
    expect(first.json).toMatchObject({ code: 'PRINTER_ERROR' })
    expect(first.json.message).toContain('1 ticket(s) printed so far')
    expect(sim.tickets).toHaveLength(1)
    await sim.setState('ready')
    const result = await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'double')
    expect(result.json).toMatchObject({ status: 'printed', printer: { acks: 2, expectedAcks: 2 } })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['double<p>', 'double<p>'])
  })

  it('answers `printed` when the paper runs out right after the last ticket\'s ACK, and keeps the fault for the next job', async () => {
    const sim = await simulator({})
    const client = await setup(sim)
    sim.once('ticket', () => { void sim.setState('paper-out') })
    await client.publish('printers/lobby/jobs', job('last-sheet'))
    expect((await client.outcome('lobby', 'last-sheet')).json).toMatchObject({ status: 'printed', printer: { acks: 1 } })
    await client.publish('printers/lobby/jobs', job('no-paper'))
    expect((await client.outcome('lobby', 'no-paper')).json.code).toBe('PRINTER_ERROR')
    await sim.setState('ready')
    await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'no-paper')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['last-sheet<p>', 'no-paper<p>'])
  })

  it('confirms every ticket of a printer that ACKs twice, once each', async () => {
    const sim = await simulator({ acksPerTicket: 2 })
    const client = await setup(sim)
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'three', data: 'a<p>b<q>c\f' }))
    expect((await client.outcome('lobby', 'three')).json).toMatchObject({ status: 'printed', printer: { acks: 3, expectedAcks: 3 } })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['a<p>', 'b<q>', 'c\f'])
  })

  it('prints a multi-ticket job on a printer in delayed status mode (one ACK after the last ticket it holds)', async () => {
    const sim = await simulator({ delayedStatus: true })
    const client = await setup(sim)
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'delayed', data: 'd1<p>d2<p>', copies: 2 }))
    expect((await client.outcome('lobby', 'delayed')).json).toMatchObject({ status: 'printed', printer: { acks: 4, expectedAcks: 4 } })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['d1<p>', 'd2<p>', 'd1<p>', 'd2<p>'])
  })

  it('still sends a multi-ticket job whole to a printer that reports nothing, as `sent`', async () => {
    const sim = await simulator({ statusReporting: false })
    const client = await setup(sim)
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'quiet', data: 'q1<p>q2<p>tail' }))
    expect((await client.outcome('lobby', 'quiet')).json).toMatchObject({ status: 'sent', bytes: 14 })
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['q1<p>', 'q2<p>'])
    expect(sim.received).toBe(14)
  })
})

describe('ASCII_STATUS_PRINTERS', () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadRelayConfig(env)
    } catch (error) {
      if (error instanceof ConfigError) return error.problems
      throw error
    }
    return []
  }

  it('takes printer ids of PRINTERS, or *', () => {
    expect(loadRelayConfig({ PRINTERS: 'a=h,b=h', ASCII_STATUS_PRINTERS: 'b, a,b' }).ASCII_STATUS_PRINTERS).toEqual(['b', 'a'])
    expect(loadRelayConfig({ PRINTERS: 'a=h' }).ASCII_STATUS_PRINTERS).toEqual([])
    expect(loadRelayConfig({ PRINTERS: 'a=h', ASCII_STATUS_PRINTERS: '*' }).ASCII_STATUS_PRINTERS).toEqual(['*'])
  })

  it('refuses an id that is not a printer of PRINTERS, naming it', () => {
    expect(problems({ PRINTERS: 'lobby=h,bar=h', ASCII_STATUS_PRINTERS: 'lobby,loby' })).toEqual([
      'ASCII_STATUS_PRINTERS: "loby" is not a printer of PRINTERS (lobby, bar); name printer ids, or * for all'
    ])
  })
})
