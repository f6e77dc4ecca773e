/**
 * `printwire discover` and `printwire test-print` (issue 14, item 6) as users run them (the real command line),
 * against simulated Boca printers on several loopback addresses. Only loopback ranges are ever scanned here: a
 * random 127.x.y.0/29 (all of 127/8 is loopback on Linux), holding a Boca in binary status, a Boca in ASCII status
 * mode, a listener that answers garbage (an HTTP server's reply), one that answers nothing, and closed addresses.
 */
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CliRun } from '../../harness/cliRun.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { loadRelayConfig } from '../../relay/config.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** A random 127.x.y.0/29 (x from 1: not 127.0.0.x, where other tests' servers are), as `127.x.y.`. */
function loopbackBlock (): string {
  const byte = (): number => 1 + Math.floor(Math.random() * 254)
  return `127.${byte()}.${byte()}.`
}

async function listener (host: string, port: number, onSocket: (socket: net.Socket) => void): Promise<void> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => { sockets.add(socket); socket.on('error', () => {}); onSocket(socket) })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, () => resolve()) })
  cleanup.defer(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) }))
}

describe('printwire discover', () => {
  it('tells Boca printers from other listeners in a loopback /29 and writes a PRINTERS line the relay accepts', async () => {
    const block = loopbackBlock()
    const boca = cleanup.add(await startPrinter({ host: `${block}2` }))
    const port = boca.port
    const asciiBoca = cleanup.add(await startPrinter({ host: `${block}3`, port, statusEncoding: 'ascii' }))
    await listener(`${block}4`, port, (socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')))
    await listener(`${block}5`, port, () => {})

    const run = await new CliRun(cleanup, ['discover', `${block}0/29`, '--port', String(port), '--timeout', '1500', '--concurrency', '3']).exit(30_000)
    expect(run.code, run.stderr).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^ADDRESS\s+PRINTER ID\s+WHAT\s+DETAIL$/)
    const rows = lines.slice(1, -1)
    expect(rows).toHaveLength(4)
    expect(rows[0]).toMatch(new RegExp(`^${block.replaceAll('.', '\\.')}2:${port}\\s+boca-${block.replaceAll('.', '-')}2\\s+Boca printer\\s+answered <S1>: ready \\(X-ON\\)$`))
    expect(rows[1]).toMatch(/Boca printer\s+answered <S1>: ready \(X-ON\) \(ASCII status mode: add its id to ASCII_STATUS_PRINTERS\)$/)
    expect(rows[2]).toMatch(new RegExp(`^${block.replaceAll('.', '\\.')}4:${port}\\s+-\\s+other listener\\s+answered "HTTP/1.1 400 Bad Request\\.\\.\\.\\." \\(48 54 54 50`))
    expect(rows[3]).toMatch(new RegExp(`^${block.replaceAll('.', '\\.')}5:${port}\\s+-\\s+no answer\\s+accepts connections but did not answer <S1>`))
    const ids = [2, 3].map((n) => `boca-${block.replaceAll('.', '-')}${n}`)
    expect(lines.at(-1)).toBe(`PRINTERS=${ids[0]}=${block}2:${port},${ids[1]}=${block}3:${port}`)
    expect(run.stderr).toContain(`scanning 6 addresses of ${block}0/29 on port ${port}`)
    expect(run.stderr).toContain('4 of 6 addresses accept connections')
    expect(run.stderr).toContain('2 answered as Boca printers')
    // The line is ready to use; a status request prints nothing.
    const printers = loadRelayConfig({ PRINTERS: (lines.at(-1) ?? '').slice('PRINTERS='.length) }).PRINTERS
    expect(printers).toEqual([{ id: ids[0], host: `${block}2`, port }, { id: ids[1], host: `${block}3`, port }])
    expect([...boca.tickets, ...asciiBoca.tickets]).toEqual([])
  })

  it('finds nothing in a range with no listener, says so, and writes no PRINTERS line', async () => {
    const block = loopbackBlock()
    const run = await new CliRun(cleanup, ['discover', `${block}8/30`, '--port', '9', '--timeout', '500']).exit()
    expect(run.code).toBe(0)
    expect(run.stdout.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toContain('0 of 2 addresses accept connections on port 9')
    expect(run.stderr).toContain('no Boca printer answered')
  })

  it('refuses a missing range, one that is not CIDR, one larger than a /16 without --allow-large-range and one larger than a /12, scanning nothing', async () => {
    const missing = await new CliRun(cleanup, ['discover']).exit()
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("missing required argument 'cidr'")
    for (const range of ['127.0.0.1', '127.0.0.0/33', '127.0.0.256/30', 'printers']) {
      const run = await new CliRun(cleanup, ['discover', range]).exit()
      expect(run.code, range).toBe(1)
      expect(run.stderr, range).toContain(`INVALID_ARGUMENT: "${range}" is not an IPv4 range in CIDR form`)
      expect(run.stderr, range).not.toContain('scanning')
    }
    const large = await new CliRun(cleanup, ['discover', '127.0.0.0/14']).exit()
    expect(large.code).toBe(1)
    expect(large.stderr).toContain('127.0.0.0/14 holds 262144 addresses: scan a /16 or smaller')
    expect(large.stderr).toContain('--allow-large-range')
    expect(large.stderr).not.toContain('scanning')
    // Beyond a /12, not even with the flag.
    const huge = await new CliRun(cleanup, ['discover', '127.0.0.0/8', '--allow-large-range']).exit()
    expect(huge.code).toBe(1)
    expect(huge.stderr).toContain('127.0.0.0/8 holds 16777216 addresses: discover scans a /12 at most')
    expect(huge.stderr).not.toContain('scanning')
  })
})

describe('printwire test-print', () => {
  it('prints a ticket with the printer id, the time and a QR code through the broker, waits, and exits 0', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, path.join(await tempDir(cleanup), 'state'))))
    await watcher.waitFor((m) => m.json?.state === 'online', 10_000, 'lobby online')
    const before = new Date()
    const run = await new CliRun(cleanup, ['test-print', 'lobby', '--url', broker.mqttUrl, '--timeout', '20000']).exit(30_000)
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ printerId: 'lobby', status: 'printed' })
    expect(sim.tickets).toHaveLength(1)
    const ticket = sim.tickets[0]?.bytes.toString('latin1') ?? ''
    expect(ticket).toContain('PRINTWIRE TEST')
    expect(ticket).toContain('Printer lobby')
    const qr = /<QR6,0,0,M>\{printwire-test lobby ([^}]+)\}/.exec(ticket)
    expect(qr).not.toBeNull()
    expect(new Date(qr?.[1] ?? '').getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000)
  })

  it('exits 1 as print does when no relay serves the printer', async () => {
    const broker = cleanup.add(await startBroker())
    const run = await new CliRun(cleanup, ['test-print', 'nobody', '--url', broker.mqttUrl, '--timeout', '10000']).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('NO_RELAY')
    expect(run.stdout).toBe('')
  })
})
