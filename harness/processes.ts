/**
 * Printwire parts as real child processes (`node --import tsx <entry>`), for tests that kill them for real.
 * Reads their JSON log lines so tests can wait for "broker listening", "relay started", ...
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export interface LogLine { msg?: string, [key: string]: unknown }

export class PartProcess {
  readonly child: ChildProcess
  readonly logs: LogLine[] = []
  stderr = ''
  private exited: Promise<number | null>
  private waiters: Array<{ match: (l: LogLine) => boolean, resolve: (l: LogLine) => void }> = []

  /** `nodeArgs`: options for node itself (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  constructor (entry: string, env: Record<string, string>, nodeArgs: string[] = []) {
    // `node --import tsx`, not the `tsx` wrapper: a signal must reach the part itself, not a parent process.
    // Through exitWithParent.ts, which runs the entry in the same process and ends it if this one dies.
    this.child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(ROOT, 'harness', 'exitWithParent.ts'), path.join(ROOT, entry)], {
      cwd: ROOT,
      // JSON log lines whatever the entry's default form (npm start's is pretty): this class reads them.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    this.child.stdin?.on('error', () => {})
    let buffered = ''
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      buffered += text
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) this.take(line)
    })
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => { this.stderr += text })
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
  }

  private take (line: string): void {
    let parsed: LogLine
    try { parsed = JSON.parse(line) as LogLine } catch { parsed = { msg: line } }
    this.logs.push(parsed)
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(parsed)) return true
      w.resolve(parsed)
      return false
    })
  }

  waitForLog (msg: string, timeoutMs = 20_000): Promise<LogLine> {
    const seen = this.logs.find((l) => l.msg === msg)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const describe = (l: LogLine): string => {
        const err = l.err as { message?: string } | undefined
        return err?.message === undefined ? String(l.msg) : `${String(l.msg)} (${err.message})`
      }
      const timer = setTimeout(() => reject(new Error(`no "${msg}" log within ${timeoutMs} ms; stderr: ${this.stderr}; logs: ${this.logs.map(describe).join(' | ')}`)), timeoutMs)
      this.waiters.push({ match: (l) => l.msg === msg, resolve: (l) => { clearTimeout(timer); resolve(l) } })
    })
  }

  /** Waits for the process to exit by itself; its exit code. */
  exitCode (): Promise<number | null> {
    return this.exited
  }

  /** Sends `signal` and waits for the exit code (null when killed by a signal). */
  async kill (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    return this.exited
  }

  stop (): Promise<void> {
    return this.kill('SIGKILL').then(() => {})
  }
}
