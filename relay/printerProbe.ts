/**
 * Short exchanges with a raw TCP/9100 printer outside a job: checking that it can be reached, asking whether
 * it is ready (`<S1>`), and closing a connection the way a Boca needs. Jobs themselves go through the kept
 * connection of printerConnection.ts.
 */
import net from 'node:net'
import { decodeStatusByte } from '../boca/status.ts'
import type { PrinterTarget, PrintTimeouts, StatusTarget } from './printAttempt.ts'

/** How long a printer is given to close its side after the relay's FIN. */
const CLOSE_GRACE_MS = 1000

/**
 * A Boca takes one connection at a time and refuses others until it has seen this one close, so the
 * relay waits for the close to complete before its next connection, rather than racing it.
 */
export function closeGracefully (socket: net.Socket, graceful: boolean): Promise<void> {
  return new Promise((resolve) => {
    socket.removeAllListeners('data')
    socket.on('error', () => {})
    if (socket.destroyed || !graceful) {
      socket.destroy()
      resolve()
      return
    }
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS)
    socket.once('close', () => { clearTimeout(timer); resolve() })
    socket.resume()
    socket.end()
  })
}

/**
 * A short exchange on a connection of its own: `onConnect` and `onData` call `settle` with the answer once
 * they have it; an error, a close or the deadline settles it with `fallback`. Then the connection is closed
 * (gracefully when `graceful(answer)`), and the promise resolves.
 */
function exchange<T> (target: PrinterTarget, deadlineMs: number, fallback: (reason: string) => T, graceful: (answer: T) => boolean,
  handlers: { onConnect: (socket: net.Socket, settle: (answer: T) => void) => void, onData?: (chunk: Buffer, settle: (answer: T) => void) => void }): Promise<T> {
  return new Promise((resolve) => {
    let settled = false
    const socket = net.connect({ host: target.host, port: target.port })
    const settle = (answer: T): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void closeGracefully(socket, graceful(answer)).then(() => resolve(answer))
    }
    const timer = setTimeout(() => settle(fallback(`no answer within ${deadlineMs} ms`)), deadlineMs)
    socket.on('error', (error: NodeJS.ErrnoException) => settle(fallback(error.code ?? error.message)))
    socket.on('close', () => settle(fallback('connection closed')))
    if (handlers.onData !== undefined) {
      const onData = handlers.onData
      socket.on('data', (chunk: Buffer) => onData(chunk, settle))
    }
    socket.once('connect', () => handlers.onConnect(socket, settle))
  })
}

/** `<S1>`: a Boca answers it (0x11, or low paper) only when it is ready to print. */
const STATUS_REQUEST = Buffer.from('<S1>')

/**
 * Asks the printer whether it is ready; false when it is unreachable, busy, in fault, silent, or answers
 * with bytes that are not Boca status.
 */
export function probeReady (target: StatusTarget, timeouts: PrintTimeouts): Promise<boolean> {
  return exchange(target, timeouts.connectMs + timeouts.statusWaitMs, () => false, () => true, {
    onConnect: (socket) => { socket.write(STATUS_REQUEST) },
    onData: (chunk, settle) => {
      for (const byte of chunk) {
        const status = decodeStatusByte(byte, target.statusEncoding)
        if (status.kind === 'error' || status.kind === 'busy' || status.kind === 'foreign') return settle(false)
        if (status.kind === 'ready' || status.kind === 'warning') return settle(true)
      }
    }
  })
}

/** Whether a TCP connection to the printer can be made: null when it can, else the reason. Writes nothing. */
export function checkReachable (target: PrinterTarget, connectMs: number): Promise<string | null> {
  return exchange<string | null>(target, connectMs, (reason) => reason.startsWith('no answer') ? `no connection within ${connectMs} ms` : reason, (answer) => answer === null, {
    onConnect: (_socket, settle) => settle(null)
  })
}
