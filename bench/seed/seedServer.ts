/**
 * The seed architecture's server, rebuilt for the benchmarks (issue 5): Boca's sample design, a Socket.IO
 * server between web clients and a relay on the printers' LAN. A relay connects and registers the printer
 * ids it serves; a client emits `print` `{ jobId, printerId, data }`; the server forwards it to the relay
 * serving that printer and passes the relay's `result` back to the client that asked (every Socket.IO
 * socket is in a room named by its own id). Nothing is queued or kept: a job for a printer with no relay
 * is answered `error` at once, and jobs in flight when a relay goes away are lost, as in the seed.
 *
 * `data` is a string: the FGL text a sample web page builds and emits (Socket.IO sends it inside the JSON
 * packet). Binary jobs (`<G#>` graphics) would need a Buffer attachment; the bench tickets are plain text.
 *
 * Environment: SEED_PORT (0: any free port), SEED_HOST (default 127.0.0.1). Logs `seed server listening`
 * with the port, as a JSON line.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server, type Socket } from 'socket.io'
import { z } from 'zod'
import { configOrExit, runParts, type Part } from '../../runtime/lifecycle.ts'
import { createLogger, type Logger } from '../../runtime/logger.ts'
import { loadConfig, portSchema } from '../../runtime/config.ts'

/** What a client emits, and the server forwards to the relay. */
export interface SeedPrint {
  jobId: string
  printerId: string
  data: string
}

/** The server's forward to a relay: the job and the socket id of the client to answer. */
export interface SeedRelayPrint extends SeedPrint {
  replyTo: string
}

export interface SeedResult {
  jobId: string
  printerId: string
  status: 'printed' | 'error'
  message?: string
}

export interface SeedRelayResult extends SeedResult {
  replyTo: string
}

/** Events a client or relay emits to the server. */
export interface SeedToServer {
  print: (job: SeedPrint) => void
  /** A relay: the printer ids it serves; acknowledged once recorded. */
  register: (printerIds: string[], registered: () => void) => void
  result: (result: SeedRelayResult) => void
}

/** Events the server emits: `print` to relays, `result` to clients. */
export interface SeedFromServer {
  print: (job: SeedRelayPrint) => void
  result: (result: SeedResult) => void
}

type RelaySocket = Socket<SeedToServer, SeedFromServer>

const configSchema = z.object({
  SEED_PORT: portSchema.default(0),
  SEED_HOST: z.string().default('127.0.0.1')
})

class SeedServer implements Part {
  private readonly httpServer = http.createServer()
  private readonly io = new Server<SeedToServer, SeedFromServer>(this.httpServer, { serveClient: false })
  /** printer id → the relay's socket. */
  private readonly relays = new Map<string, RelaySocket>()

  constructor (private readonly config: z.infer<typeof configSchema>, private readonly logger: Logger) {}

  async start (): Promise<void> {
    this.io.on('connection', (socket) => {
      // Guards on each message's shape: a malformed one is ignored rather than thrown into Socket.IO.
      socket.on('register', (printerIds, registered) => {
        if (!Array.isArray(printerIds)) return
        for (const id of printerIds) this.relays.set(id, socket)
        this.logger.info({ relay: socket.id, printers: printerIds.length }, 'relay registered')
        if (typeof registered === 'function') registered()
      })
      socket.on('print', (job) => {
        if (typeof job?.printerId !== 'string') return
        const relay = this.relays.get(job.printerId)
        if (relay === undefined) {
          socket.emit('result', { jobId: job.jobId, printerId: job.printerId, status: 'error', message: `no relay serves printer ${job.printerId}` })
          return
        }
        relay.emit('print', { jobId: job.jobId, printerId: job.printerId, data: job.data, replyTo: socket.id })
      })
      socket.on('result', (answer) => {
        if (typeof answer?.replyTo !== 'string') return
        const { replyTo, ...result } = answer
        // The client may have gone: emitting to an empty room is a no-op, as in the seed.
        this.io.to(replyTo).emit('result', result)
      })
      socket.on('disconnect', () => {
        for (const [id, relay] of this.relays) if (relay === socket) this.relays.delete(id)
      })
    })
    await new Promise<void>((resolve, reject) => {
      this.httpServer.once('error', reject)
      this.httpServer.listen(this.config.SEED_PORT, this.config.SEED_HOST, () => { this.httpServer.off('error', reject); resolve() })
    })
    this.httpServer.on('error', (error) => { this.logger.error({ err: error }, 'seed server error') })
    const { port } = this.httpServer.address() as AddressInfo
    this.logger.info({ port }, 'seed server listening')
  }

  async stop (): Promise<void> {
    // Closes every Socket.IO connection and the HTTP server under it.
    await this.io.close()
  }
}

const config = configOrExit(() => loadConfig('seed server', configSchema, process.env))
const logger = createLogger({ name: 'seed-server' })
await runParts([new SeedServer(config, logger)], logger)
