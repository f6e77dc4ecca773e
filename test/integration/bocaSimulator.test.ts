import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import { STATUS } from '../../boca/status.ts'
import { ROOT } from '../../harness/processes.ts'
import { silentLogger } from '../../runtime/logger.ts'
import { BocaSimulator, type BocaSimulatorConfig } from '../../printer-sim/bocaSimulator.ts'

const { ACK, READY, OUT_OF_PAPER, PAPER_JAM } = STATUS
const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startPrinterSim (config: Partial<BocaSimulatorConfig> = {}): Promise<BocaSimulator> {
  const simulator = new BocaSimulator({ config: { host: '127.0.0.1', port: 0, ...config }, logger: silentLogger() })
  await simulator.start()
  cleanups.push(() => simulator.stop())
  return simulator
}

/** A raw TCP client that collects every byte the printer sends back. */
class PrinterClient {
  readonly socket: net.Socket
  readonly received: number[] = []
  /** Resolves when the connection closes, with its error if any. */
  readonly closed: Promise<NodeJS.ErrnoException | undefined>
  private readPosition = 0
  private onData: (() => void) | undefined

  private constructor (socket: net.Socket) {
    this.socket = socket
    let lastError: NodeJS.ErrnoException | undefined
    socket.on('error', (error) => { lastError = error })
    socket.on('data', (chunk: Buffer) => { this.received.push(...chunk); this.onData?.() })
    this.closed = new Promise((resolve) => { socket.on('close', () => { this.onData?.(); resolve(lastError) }) })
  }

  static connect (port: number): Promise<PrinterClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1')
      const client = new PrinterClient(socket)
      cleanups.push(() => { socket.destroy() })
      socket.once('connect', () => { socket.off('error', reject); resolve(client) })
      socket.once('error', reject)
    })
  }

  write (data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, (error) => {
        if (error) reject(error)
        else resolve()
      })
    })
  }

  /** The next `count` status bytes, in order. */
  async read (count: number): Promise<number[]> {
    while (this.received.length < this.readPosition + count) {
      if (this.socket.destroyed) throw new Error(`connection closed after ${this.received.length} byte(s)`)
      await new Promise<void>((resolve) => { this.onData = resolve })
    }
    const bytes = this.received.slice(this.readPosition, this.readPosition + count)
    this.readPosition += count
    return bytes
  }
}

/** Connects after making sure the simulator accepted the connection (an <S1> round trip). */
async function connectReady (simulator: BocaSimulator): Promise<PrinterClient> {
  const client = await PrinterClient.connect(simulator.port)
  await client.write('<S1>')
  expect(await client.read(1)).toEqual([READY])
  return client
}

function connectError (port: number): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', resolve)
    socket.on('connect', () => { socket.destroy(); reject(new Error('connected')) })
  })
}

/** Connects and waits for the connection to end, whether the reset comes before or after `connect`. */
function connectUntilClosed (port: number): Promise<{ error: NodeJS.ErrnoException | undefined, received: number }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    cleanups.push(() => { socket.destroy() })
    let error: NodeJS.ErrnoException | undefined
    let received = 0
    socket.on('error', (e) => { error = e })
    socket.on('data', (chunk: Buffer) => { received += chunk.length })
    socket.on('close', () => { resolve({ error, received }) })
  })
}

const TICKET = '<RC10,10><F3>Hello<p>'

describe('BocaSimulator', () => {
  it('acknowledges each ticket and records its exact bytes', async () => {
    const simulator = await startPrinterSim()
    const client = await PrinterClient.connect(simulator.port)
    const graphics = Buffer.alloc(256).map((_, i) => i)
    const second = Buffer.concat([Buffer.from('<RC0,0><G256>'), graphics, Buffer.from('<RC40,0>Row<q>')])
    const job = Buffer.concat([Buffer.from(TICKET), second])
    await client.write(job.subarray(0, 30))
    await client.write(job.subarray(30))
    expect(await client.read(2)).toEqual([ACK, ACK])
    const tickets = await simulator.waitForTickets(2, 5000)
    expect(tickets[0]?.bytes.equals(Buffer.from(TICKET))).toBe(true)
    expect(tickets[1]?.bytes.equals(second)).toBe(true)
    expect(tickets.map((t) => t.terminator)).toEqual(['p', 'q'])
    expect(tickets[0]?.text).toBe('Hello[cut]')
    expect(tickets[1]?.text).toBe('[graphics 256 bytes]\nRow[no cut]')
    expect(tickets.every((t) => t.connectionId === tickets[0]?.connectionId)).toBe(true)
    expect(simulator.received).toBe(job.length)
    expect(simulator.connections).toBe(1)
  })

  it('answers <S1> with 0x11 when ready', async () => {
    const simulator = await startPrinterSim()
    await connectReady(simulator)
    expect(simulator.tickets).toHaveLength(0)
  })

  it('resets a second connection while one is open', async () => {
    const simulator = await startPrinterSim()
    const first = await connectReady(simulator)
    const second = await connectUntilClosed(simulator.port)
    expect(second.error?.code).toBe('ECONNRESET')
    expect(second.received).toBe(0)
    expect(simulator.refusedConnections).toBe(1)
    await first.write(TICKET)
    expect(await first.read(1)).toEqual([ACK])
    const disconnected = once(simulator, 'disconnect')
    first.socket.destroy()
    await disconnected
    const third = await connectReady(simulator)
    await third.write(TICKET)
    expect(await third.read(1)).toEqual([ACK])
  })

  it('reports paper out, refuses to print, and prints again once ready', async () => {
    const simulator = await startPrinterSim()
    const client = await connectReady(simulator)
    await simulator.setState('paper-out')
    expect(await client.read(1)).toEqual([OUT_OF_PAPER])
    // <S1> goes unanswered in an error state; the ticket gets the error byte instead of an ACK.
    await client.write('<S1>' + TICKET)
    expect(await client.read(1)).toEqual([OUT_OF_PAPER])
    expect(simulator.tickets).toHaveLength(0)
    expect(simulator.rejectedTickets).toBe(1)
    await simulator.setState('ready')
    expect(await client.read(1)).toEqual([READY])
    await client.write(TICKET + '<S1>')
    expect(await client.read(2)).toEqual([ACK, READY])
    expect(simulator.tickets).toHaveLength(1)
    expect(client.received).toEqual([READY, OUT_OF_PAPER, OUT_OF_PAPER, READY, ACK, READY])
  })

  it('reports a paper jam with 0x18', async () => {
    const simulator = await startPrinterSim()
    const client = await connectReady(simulator)
    await simulator.setState('paper-jam')
    await client.write(TICKET)
    expect(await client.read(2)).toEqual([PAPER_JAM, PAPER_JAM])
    expect(simulator.tickets).toHaveLength(0)
  })

  it('refuses connections while offline and comes back on the same port', async () => {
    const simulator = await startPrinterSim()
    const port = simulator.port
    const client = await connectReady(simulator)
    await simulator.setState('offline')
    await client.closed
    expect((await connectError(port)).code).toBe('ECONNREFUSED')
    await simulator.setState('ready')
    expect(simulator.port).toBe(port)
    const again = await connectReady(simulator)
    await again.write(TICKET)
    expect(await again.read(1)).toEqual([ACK])
  })

  it('starts offline when asked, still reporting its port', async () => {
    const simulator = await startPrinterSim({ initialState: 'offline' })
    expect(simulator.port).toBeGreaterThan(0)
    expect((await connectError(simulator.port)).code).toBe('ECONNREFUSED')
  })

  it('hangs: holds the connection, reads nothing, answers nothing, until ready again', async () => {
    const simulator = await startPrinterSim()
    const client = await connectReady(simulator)
    await simulator.setState('hang')
    await client.write(TICKET + '<S1>')
    // A second connection is reset by the simulator after it saw the data above arrive: a round trip.
    expect((await connectUntilClosed(simulator.port)).error?.code).toBe('ECONNRESET')
    expect(client.received).toEqual([READY])
    expect(simulator.received).toBe('<S1>'.length)
    expect(simulator.tickets).toHaveLength(0)
    await simulator.setState('ready')
    expect(await client.read(3)).toEqual([READY, ACK, READY])
    expect(simulator.tickets).toHaveLength(1)
  })

  it('sends nothing back when status reporting is off', async () => {
    const simulator = await startPrinterSim({ statusReporting: false })
    const client = await PrinterClient.connect(simulator.port)
    await client.write('<S1>' + TICKET)
    await simulator.waitForTickets(1, 5000)
    await simulator.setState('paper-out')
    await simulator.stop()
    await client.closed
    expect(client.received).toEqual([])
  })

  it('delays each ACK when printing is slow, keeping the order', async () => {
    const simulator = await startPrinterSim({ printDelayMs: 5 })
    const client = await PrinterClient.connect(simulator.port)
    await client.write(TICKET + '<S1>' + TICKET)
    expect(await client.read(3)).toEqual([ACK, READY, ACK])
    expect(simulator.tickets).toHaveLength(2)
  })

  it('writes each ticket to the dump directory', async () => {
    const dumpDir = await mkdtemp(path.join(os.tmpdir(), 'printer-sim-'))
    cleanups.push(() => rm(dumpDir, { recursive: true, force: true }))
    const simulator = await startPrinterSim({ dumpDir })
    const client = await PrinterClient.connect(simulator.port)
    await client.write(TICKET)
    expect(await client.read(1)).toEqual([ACK])
    await simulator.stop()
    expect((await readFile(path.join(dumpDir, '1.bin'))).toString('latin1')).toBe(TICKET)
    expect(await readFile(path.join(dumpDir, '1.txt'), 'utf8')).toBe('Hello[cut]\n')
  })

  it('rejects waitForTickets with a clear error on timeout', async () => {
    const simulator = await startPrinterSim()
    await expect(simulator.waitForTickets(1, 20)).rejects.toThrow('expected 1 ticket(s) within 20 ms, but 0 printed')
  })

  it('forgets its records on reset', async () => {
    const simulator = await startPrinterSim()
    const client = await PrinterClient.connect(simulator.port)
    await client.write(TICKET)
    await simulator.waitForTickets(1, 5000)
    simulator.reset()
    expect([simulator.tickets.length, simulator.received, simulator.connections]).toEqual([0, 0, 0])
  })
})

describe('printer-sim/main.ts', () => {
  it('starts as a process, reports its port, takes stdin commands and exits 0 on SIGTERM', async () => {
    const child: ChildProcessWithoutNullStreams = spawn('node_modules/.bin/tsx', ['printer-sim/main.ts', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info' }
    })
    const exited = new Promise<number | null>((resolve) => { child.on('exit', (code) => { resolve(code) }) })
    // SIGTERM, not SIGKILL: tsx forwards it to the node process it runs, so nothing is left behind.
    cleanups.push(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited } })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })

    const port = await new Promise<number>((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout })
      lines.on('line', (line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string, port?: number }
          if (entry.msg === 'printer simulator listening' && typeof entry.port === 'number') resolve(entry.port)
        } catch { /* not a log line */ }
      })
      child.on('exit', (code) => { reject(new Error(`printer-sim exited (${code}) before listening: ${stderr}`)) })
    })

    const client = await PrinterClient.connect(port)
    await client.write(TICKET)
    expect(await client.read(1)).toEqual([ACK])
    child.stdin.write('paper-out\n')
    expect(await client.read(1)).toEqual([OUT_OF_PAPER])

    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  }, 30_000)
})
