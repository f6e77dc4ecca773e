/** A free TCP port on loopback, for servers that must come back on the same port (restarts). */
import net from 'node:net'

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** `count` different free ports on loopback: held together while chosen, so no two are the same. */
export async function freePorts (count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => net.createServer())
  try {
    return await Promise.all(servers.map((server) => new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port))
    })))
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  }
}
