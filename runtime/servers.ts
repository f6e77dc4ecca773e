/** Listening and closing for the parts' TCP, TLS and HTTP(S) servers, as promises. */
import type { Server } from 'node:net'
import { PrintwireError } from '../protocol/errorCodes.ts'

/**
 * Connections the kernel may hold for a server before it accepts them (capped by net.core.somaxconn). Node's
 * default overflowed when thousands of relays and pages came back together after a broker restart: the kernel
 * dropped their SYNs, and each client waited out TCP's retransmission backoff while the broker sat idle
 * (BENCHMARKS.md, "Scale").
 */
export const LISTEN_BACKLOG = 4096

/**
 * Listens on `port` (0: any free one) at `host`; rejects with the listen error (EADDRINUSE, ...). With `variable`
 * (the setting that chose the port), a port in use is a PORT_IN_USE error that names it and says what to do.
 */
export function listen (server: Server, port: number, host: string, variable?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(variable === undefined ? error : portError(error, port, host, variable))
    server.once('error', onError)
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

/** Stops accepting and resolves once the open connections are gone (the caller ends them). */
export function closeServer (server: Server | undefined): Promise<void> {
  return new Promise((resolve) => { if (server?.listening === true) server.close(() => resolve()); else resolve() })
}

/** EADDRINUSE, told as the operator's problem: which port, which setting, what to do. Other errors as they are. */
function portError (error: Error, port: number, host: string, variable: string): Error {
  if ((error as { code?: unknown }).code !== 'EADDRINUSE') return error
  return new PrintwireError('PORT_IN_USE', `port ${port} is in use (${variable}, on ${host}): stop what uses it or set ${variable}=another port`, { cause: error })
}
