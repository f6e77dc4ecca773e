/**
 * A real redis-server (Debian's) on a free port, for one test. By default it keeps nothing on disk; with
 * `dir` it writes an append-only file there, synced at every write, so that `restart()` (after `kill()`, a
 * Redis outage) brings back what it held.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { freePort } from './ports.ts'

const REDIS_SERVER = '/usr/bin/redis-server'

export interface RedisServer {
  url: string
  /** Kills the server (SIGKILL), as an outage would. */
  kill(): Promise<void>
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>
  stop(): Promise<void>
}

export async function startRedis (options: { dir?: string } = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} not found: install Debian's redis-server (apt-get install redis-server; .ci/run does)`)
  const port = await freePort()
  const storage = options.dir === undefined
    ? ['--save', '', '--appendonly', 'no']
    : ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.dir]
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  const launch = async (): Promise<void> => {
    const started: ChildProcess = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', ...storage], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = started
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()))
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000)
      started.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) { clearTimeout(timer); resolve() }
      })
      started.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited (${code}): ${output}`)) })
    })
  }
  const kill = async (): Promise<void> => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  await launch()
  return { url: `redis://127.0.0.1:${port}`, kill, restart: launch, stop: kill }
}
