/**
 * Start-up failures the operator fixes by a setting (issue 14), each in the real process: the broker
 * (`npm run broker`), `npm start` and the web server (`npm run web`) with MQTT_PORT or PORT taken by another program, and the broker with
 * PERSISTENCE=redis and no Redis at REDIS_URL. Each says, once and plainly on stderr, what is wrong, naming the
 * variable and what to do, and exits 1.
 */
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { PartProcess } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** Another program's server on a free loopback port, as Debian's mosquitto holds 1883. */
async function occupiedPort (): Promise<number> {
  const server = net.createServer((socket) => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  cleanup.defer(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return (server.address() as net.AddressInfo).port
}

async function runPart (entry: string, env: Record<string, string>): Promise<{ code: number | null, part: PartProcess }> {
  const part = new PartProcess(entry, env)
  cleanup.add(part)
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${entry} did not exit; stderr: ${part.stderr}`)), 30_000) })
  try {
    return { code: await Promise.race([part.exitCode(), hung]), part }
  } finally {
    clearTimeout(timer)
  }
}

describe('a port already in use', () => {
  for (const entry of ['broker/main.ts', 'start.ts']) {
    it(`${entry}: MQTT_PORT in use is named, with what to do, and the process exits 1`, async () => {
      const port = await occupiedPort()
      const { code, part } = await runPart(entry, { PORT: '0', MQTT_PORT: String(port), PERSISTENCE: 'memory', DATA_DIR: await tempDir(cleanup) })
      expect(code).toBe(1)
      expect(part.stderr).toContain(`port ${port} is in use (MQTT_PORT, on 127.0.0.1): stop what uses it or set MQTT_PORT=another port`)
      expect(part.stderr).not.toMatch(/\n\s+at /)
      expect(part.logs.some((l) => l.level === 60 && String(l.msg).includes('MQTT_PORT'))).toBe(true)
    })
  }

  it('broker/main.ts: PORT in use is named', async () => {
    const port = await occupiedPort()
    const { code, part } = await runPart('broker/main.ts', { PORT: String(port), MQTT_PORT: '0', PERSISTENCE: 'memory' })
    expect(code).toBe(1)
    expect(part.stderr).toContain(`port ${port} is in use (PORT, on 127.0.0.1): stop what uses it or set PORT=another port`)
  })
})

describe('the web server (Mosquitto mode) with PORT in use', () => {
  it('names PORT and exits 1', async () => {
    const port = await occupiedPort()
    const { code, part } = await runPart('web/server/main.ts', {
      PORT: String(port),
      LISTEN_HOST: '127.0.0.1',
      BROKER_WS_URL: `ws://127.0.0.1:${await freePort()}`,
      MQTT_URL: `mqtt://127.0.0.1:${await freePort()}`,
      DATA_DIR: await tempDir(cleanup)
    })
    expect(code).toBe(1)
    expect(part.stderr).toContain(`port ${port} is in use (PORT, on 127.0.0.1): stop what uses it or set PORT=another port`)
  })
})

describe('Redis down with PERSISTENCE=redis', () => {
  it('says once that REDIS_URL cannot be reached (password hidden), without ioredis\' unhandled errors, and exits 1', async () => {
    const port = await freePort()
    const { code, part } = await runPart('broker/main.ts', { PORT: '0', MQTT_PORT: '0', PERSISTENCE: 'redis', REDIS_URL: `redis://printwire:s3cret@127.0.0.1:${port}` })
    expect(code).toBe(1)
    const lines = part.stderr.trim().split('\n')
    expect(lines, part.stderr).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^cannot reach Redis at redis://printwire:\\*\\*\\*@127\\.0\\.0\\.1:${port}/? \\(REDIS_URL, for PERSISTENCE=redis\\): connect ECONNREFUSED.*set REDIS_URL`))
    expect(part.stderr).not.toContain('Unhandled error event')
    expect(JSON.stringify(part.logs)).not.toContain('s3cret')
  })
})
