/**
 * The seed architecture as real processes, like Printwire's parts in harness/parts.ts: the Socket.IO
 * server (seedServer.ts) and one relay (seedRelay.ts) serving the printers at `addresses`, each process of
 * its own, stopped by `Cleanup`.
 */
import { printerIds, type Cleanup } from '../harness/parts.ts'
import { PartProcess } from '../../harness/processes.ts'

export interface StartedSeed {
  /** The seed server, for seedLoad.ts. */
  url: string
  /** Printer ids p1..pN, in the order of `addresses`. */
  printers: string[]
  /** Process ids, to measure their CPU. */
  pids: { server: number, relay: number }
}

/** Starts the seed server, then its relay for `addresses`; resolves once the relay has registered them. */
export async function startSeed (cleanup: Cleanup, addresses: string[]): Promise<StartedSeed> {
  const server = cleanup.add(new PartProcess('bench/seed/seedServer.ts', { SEED_PORT: '0', LOG_LEVEL: 'info' }))
  const listening = await server.waitForLog('seed server listening', 30_000)
  const url = `http://127.0.0.1:${Number(listening.port)}`
  const printers = printerIds(addresses.length)
  const relay = cleanup.add(new PartProcess('bench/seed/seedRelay.ts', {
    SEED_URL: url,
    PRINTERS: addresses.map((address, i) => `${printers[i] as string}=${address}`).join(','),
    LOG_LEVEL: 'info'
  }))
  await relay.waitForLog('seed relay ready', 30_000)
  return { url, printers, pids: { server: server.child.pid ?? 0, relay: relay.child.pid ?? 0 } }
}
