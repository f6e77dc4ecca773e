/**
 * `printwire discover` (cli/discover.ts) against a hostile listener on loopback: one that answers `<S1>` with an
 * endless stream. The scan keeps at most MAX_ANSWER_BYTES of an answer, so it must stop reading (and close)
 * once it has them, not read all it can for the settle time: at 64 hosts at once, on a fast LAN, that is
 * gigabytes. Also: a malformed range scans nothing. Loopback only (127.0.0.1/32).
 */
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { parseRange, scan } from '../../cli/discover.ts'

const servers: net.Server[] = []
afterEach(async () => { for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve())) })

describe('discover against a listener that never stops answering', () => {
  it('reads a bounded answer and closes, whatever the listener sends', async () => {
    let sent = 0
    const closed = new Promise<void>((resolve) => {
      const server = net.createServer((socket) => {
        socket.on('error', () => {})
        socket.on('close', () => resolve())
        const chunk = Buffer.from('HTTP/1.1 200 OK\r\nX: '.padEnd(1 << 20, 'x'))
        const pump = (): void => {
          while (!socket.destroyed && socket.write(chunk)) sent += chunk.length
          if (!socket.destroyed) { sent += chunk.length; socket.once('drain', pump) }
        }
        socket.once('data', pump)
      })
      servers.push(server)
      server.listen(0, '127.0.0.1')
    })
    await new Promise<void>((resolve) => servers[0]?.once('listening', () => resolve()))
    const port = (servers[0]?.address() as net.AddressInfo).port
    const [found] = await scan(parseRange('127.0.0.1/32'), { port, timeoutMs: 5000, concurrency: 1 })
    await closed
    expect(found).toMatchObject({ address: '127.0.0.1', kind: 'other' })
    // What the listener could push before the scan closed: its socket buffers, not a stream for 150 ms.
    expect(sent).toBeLessThan(16 << 20)
  })

  it('scans nothing for a malformed range', () => {
    for (const text of ['127.0.0.1', '127.0.0.1/33', '127.0.0.256/32', '127.0.0/24', '127.0.0.1/-1', '127.0.0.1/8/8', '::1/128', '127.0.0.1/ 32', '']) {
      expect(() => parseRange(text), text).toThrow(/not an IPv4 range/)
    }
  })
})
