/**
 * `printwire` as users run it: the real `bin/printwire.js` in a child process, with only PATH and HOME from
 * the developer's environment (no MQTT_URL or MQTT_USERNAME of theirs: every run says where it goes).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import type { Cleanup } from './parts.ts'
import { ROOT } from './processes.ts'

const CLI = path.join(ROOT, 'bin', 'printwire.js')

export interface CliExit { code: number | null, stdout: string, stderr: string }

/** One run of the command line; killed by `cleanup` if it is still running. */
export class CliRun {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''
  private readonly exited: Promise<number | null>
  private watchers: Array<() => void> = []

  constructor (cleanup: Cleanup, args: string[], stdin?: Buffer, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']
    })
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => { this.stdout += text })
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text
      for (const watcher of [...this.watchers]) watcher()
    })
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
    if (stdin !== undefined) {
      this.child.stdin?.on('error', () => {})
      this.child.stdin?.end(stdin)
    }
    cleanup.defer(() => this.stop())
  }

  /** Resolves once stderr contains `text`; rejects if the process exits first or after `timeoutMs`. */
  waitForStderr (text: string, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer)
        this.watchers = this.watchers.filter((w) => w !== check)
        if (error === undefined) resolve()
        else reject(error)
      }
      const check = (): void => { if (this.stderr.includes(text)) done() }
      const timer = setTimeout(() => done(new Error(`no "${text}" on stderr within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs)
      this.watchers.push(check)
      void this.exited.then(() => done(new Error(`exited before "${text}" appeared on stderr; stderr: ${this.stderr}`)))
      check()
    })
  }

  /** Waits for the process to exit by itself (rejects after `timeoutMs`: it hangs). */
  async exit (timeoutMs = 20_000): Promise<CliExit> {
    let timer: NodeJS.Timeout | undefined
    const hung = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`printwire did not exit within ${timeoutMs} ms; stdout: ${this.stdout}; stderr: ${this.stderr}`)), timeoutMs)
    })
    try {
      const code = await Promise.race([this.exited, hung])
      return { code, stdout: this.stdout, stderr: this.stderr }
    } finally {
      clearTimeout(timer)
    }
  }

  async stop (): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    await this.exited
  }
}
