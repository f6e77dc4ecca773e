/**
 * A long-running `printwire <part>` command (`node <bin> relay`, ...) in a child process, as systemd or Docker
 * runs it: its JSON log lines read as they come, its own child processes listed (tsx's esbuild service), and
 * a signal sent to it alone. The bin may be the repo's or an installed copy's (the offline install test).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import type { Cleanup } from './parts.ts'

export interface CommandLog { msg?: string, [key: string]: unknown }

export class CommandProcess {
  readonly child: ChildProcess
  readonly logs: CommandLog[] = []
  stdout = ''
  stderr = ''
  private readonly exited: Promise<number | null>
  private waiters: Array<() => void> = []

  constructor (cleanup: Cleanup, options: { bin: string, args: string[], cwd: string, env: Record<string, string> }) {
    this.child = spawn(process.execPath, [options.bin, ...options.args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let buffered = ''
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      this.stdout += text
      buffered += text
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        try { this.logs.push(JSON.parse(line) as CommandLog) } catch { this.logs.push({ msg: line }) }
      }
      this.notify()
    })
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => { this.stderr += text; this.notify() })
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => { resolve(code); this.notify() }))
    cleanup.defer(async () => { await this.kill('SIGKILL') })
  }

  private notify (): void {
    for (const waiter of [...this.waiters]) waiter()
  }

  private running (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resolves with the first log line whose msg is `msg`; rejects if the process exits first, or after `timeoutMs`. */
  waitForLog (msg: string, timeoutMs = 30_000): Promise<CommandLog> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.logs.find((line) => line.msg === msg)
        if (found !== undefined) finish(() => resolve(found))
        else if (!this.running()) finish(() => reject(new Error(`exited (${String(this.child.exitCode ?? this.child.signalCode)}) before logging "${msg}"; stderr: ${this.stderr}; stdout: ${this.stdout}`)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`no "${msg}" log within ${timeoutMs} ms; stderr: ${this.stderr}; stdout: ${this.stdout}`))), timeoutMs)
      const finish = (settle: () => void): void => {
        clearTimeout(timer)
        this.waiters = this.waiters.filter((w) => w !== check)
        settle()
      }
      this.waiters.push(check)
      check()
    })
  }

  /** The process ids of this process's children and their children, now. */
  descendants (): number[] {
    return descendantsOf(this.child.pid as number)
  }

  /** Waits for the process to exit; its exit code (null when a signal ended it). */
  exitCode (): Promise<number | null> {
    return this.exited
  }

  /** Sends `signal` to this process only (not its group) and waits for its exit. */
  async kill (signal: NodeJS.Signals): Promise<number | null> {
    if (this.running()) this.child.kill(signal)
    return this.exited
  }
}

/** Whether process `pid` is still alive (a zombie not yet reaped counts as gone). */
export function processAlive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** The process ids of `root`'s children and their children, now (read from /proc). */
export function descendantsOf (root: number): number[] {
  const parentOf = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parentOf.set(Number(entry), ppid)
    } catch { /* gone meanwhile */ }
  }
  const found: number[] = []
  const pending = [root]
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    for (const [child, parent] of parentOf) {
      if (parent === pid) { found.push(child); pending.push(child) }
    }
  }
  return found
}
