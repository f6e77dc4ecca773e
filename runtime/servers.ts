/** Listening and closing for the parts' TCP, TLS and HTTP(S) servers, as promises. */
import type { Server } from 'node:net'

/** Listens on `port` (0: any free one) at `host`; rejects with the listen error (EADDRINUSE, ...). */
export function listen (server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

/** Stops accepting and resolves once the open connections are gone (the caller ends them). */
export function closeServer (server: Server | undefined): Promise<void> {
  return new Promise((resolve) => { if (server?.listening === true) server.close(() => resolve()); else resolve() })
}
