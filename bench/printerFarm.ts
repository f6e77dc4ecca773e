/**
 * Fast simulated Boca printers for benchmarks, in one process of their own so that they do not share a
 * core with what is measured: PRINTER_COUNT printers on 127.0.0.1, free ports, each acknowledging a
 * ticket as soon as it has it. PRINTER_CONCURRENT=true lets a printer take several connections at once
 * (a real Boca takes one). Logs `printer farm ready` with the addresses, as a JSON line.
 */
import { BocaSimulator } from '../printer-sim/bocaSimulator.ts'
import { configOrExit, runParts, type Part } from '../runtime/lifecycle.ts'
import { createLogger } from '../runtime/logger.ts'

const count = configOrExit(() => {
  const n = Number(process.env.PRINTER_COUNT ?? '1')
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error('PRINTER_COUNT must be a whole number from 1 to 1000')
  return n
})
const concurrent = process.env.PRINTER_CONCURRENT === 'true'
const logger = createLogger({ name: 'printer-farm', level: 'warn' })
const printers = Array.from({ length: count }, () => new BocaSimulator({
  config: { host: '127.0.0.1', port: 0, concurrentConnections: concurrent, keepTickets: false },
  logger
}))

class Announce implements Part {
  async start (): Promise<void> {
    process.stdout.write(JSON.stringify({ msg: 'printer farm ready', addresses: printers.map((p) => p.address) }) + '\n')
  }

  async stop (): Promise<void> {}
}

await runParts([...printers, new Announce()], logger)
