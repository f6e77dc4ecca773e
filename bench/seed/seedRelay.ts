/**
 * The seed architecture's relay, rebuilt for the benchmarks (issue 5): a Socket.IO client on the printers'
 * LAN that registers its printers with the seed server (seedServer.ts) and, for each `print` it is sent,
 * opens a NEW TCP connection to the printer, writes the job, waits for one ACK (0x06) per ticket, closes the
 * connection and emits the `result`. No queue, no retries, nothing on disk: jobs for one printer that arrive
 * together open connections together, and a real Boca (one connection at a time) resets all but one of them
 * (ECONNRESET), which is answered `error`, as the seed would.
 *
 * Environment: SEED_URL (the seed server), PRINTERS (`p1=127.0.0.1:9100,p2=…`, as the relay's),
 * SEED_PRINTER_TIMEOUT_MS (how long a printer may stay silent before the job is answered `error`,
 * default 15000, as Printwire's PRINTER_TIMEOUT_MS). Logs `seed relay ready` once registered.
 */
import net from 'node:net'
import { io, type Socket } from 'socket.io-client'
import { z } from 'zod'
import { decodeStatusByte, hex, STATUS } from '../../boca/status.ts'
import { parsePrinters, type PrinterAddress } from '../../relay/config.ts'
import { loadConfig, positiveIntSchema } from '../../runtime/config.ts'
import { configOrExit, runParts, type Part } from '../../runtime/lifecycle.ts'
import { createLogger, type Logger } from '../../runtime/logger.ts'
import type { SeedFromServer, SeedRelayPrint, SeedResult, SeedToServer } from './seedServer.ts'

const configSchema = z.object({
  SEED_URL: z.string().url(),
  PRINTERS: z.string().transform(parsePrinters),
  SEED_PRINTER_TIMEOUT_MS: positiveIntSchema.default(15_000)
})
type SeedRelayConfig = z.infer<typeof configSchema>

/**
 * Tickets in a job: the `<p>` and `<q>` terminators. A plain count, as the seed would do: enough for text
 * tickets (the bench's), wrong for `<G#>` graphics whose bytes happen to spell a terminator.
 */
function ticketsIn (data: string): number {
  return data.match(/<[pq]>/g)?.length ?? 0
}

/** One job on a new connection to `printer`: connect, write, wait for the ACKs, close. */
function printJob (printer: PrinterAddress, data: string, timeoutMs: number): Promise<Pick<SeedResult, 'status' | 'message'>> {
  return new Promise((resolve) => {
    const expected = ticketsIn(data)
    let acks = 0
    let settled = false
    // TCP_NODELAY, as Printwire's printer connections: a fair comparison, not a seed feature.
    const socket = net.connect({ host: printer.host, port: printer.port, noDelay: true })
    const finish = (outcome: Pick<SeedResult, 'status' | 'message'>): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      // The connection is closed after every job, printed or not: the printer takes the next one.
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => { finish({ status: 'error', message: `printer silent for ${timeoutMs} ms after ${acks} of ${expected} ACK(s)` }) }, timeoutMs)
    socket.on('error', (error: NodeJS.ErrnoException) => { finish({ status: 'error', message: `${error.code ?? 'ERROR'}: ${error.message}` }) })
    socket.on('close', () => { finish({ status: 'error', message: `printer closed the connection after ${acks} of ${expected} ACK(s)` }) })
    socket.on('data', (chunk: Buffer) => {
      for (const byte of chunk) {
        if (byte === STATUS.ACK) acks++
        else if (decodeStatusByte(byte).kind === 'error') finish({ status: 'error', message: `printer reports ${decodeStatusByte(byte).message} (${hex(byte)})` })
      }
      if (acks >= expected) finish({ status: 'printed' })
    })
    // A job with no ticket end has no ACK to wait for: written is as far as the seed can tell.
    socket.write(data, () => { if (expected === 0) finish({ status: 'printed' }) })
  })
}

class SeedRelay implements Part {
  private socket: Socket<SeedFromServer, SeedToServer> | undefined
  private readonly printers: Map<string, PrinterAddress>

  constructor (private readonly config: SeedRelayConfig, private readonly logger: Logger) {
    this.printers = new Map(config.PRINTERS.map((printer) => [printer.id, printer]))
  }

  async start (): Promise<void> {
    // WebSocket straight away, as the clients in seedLoad.ts: no HTTP long-polling phase before the upgrade.
    const socket: Socket<SeedFromServer, SeedToServer> = io(this.config.SEED_URL, { transports: ['websocket'] })
    this.socket = socket
    let ready = false
    // Registered again after every reconnection: the server forgets a relay that disconnects.
    socket.on('connect', () => {
      socket.emit('register', [...this.printers.keys()], () => {
        if (!ready) this.logger.info({ printers: this.printers.size }, 'seed relay ready')
        ready = true
      })
    })
    socket.on('connect_error', (error) => { this.logger.warn({ err: error }, 'cannot reach the seed server') })
    socket.on('print', (job) => { void this.print(socket, job) })
  }

  private async print (socket: Socket<SeedFromServer, SeedToServer>, job: SeedRelayPrint): Promise<void> {
    const printer = this.printers.get(job.printerId)
    const outcome = printer === undefined
      ? { status: 'error' as const, message: `this relay does not serve printer ${job.printerId}` }
      : await printJob(printer, typeof job.data === 'string' ? job.data : '', this.config.SEED_PRINTER_TIMEOUT_MS)
    if (outcome.status === 'error') this.logger.debug({ jobId: job.jobId, printerId: job.printerId, message: outcome.message }, 'job failed')
    socket.emit('result', { jobId: job.jobId, printerId: job.printerId, replyTo: job.replyTo, ...outcome })
  }

  async stop (): Promise<void> {
    this.socket?.disconnect()
  }
}

const config = configOrExit(() => loadConfig('seed relay', configSchema, process.env))
const logger = createLogger({ name: 'seed-relay' })
await runParts([new SeedRelay(config, logger)], logger)
