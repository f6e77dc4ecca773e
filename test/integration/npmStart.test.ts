/**
 * `npm start`'s output is for a person trying Printwire for the first time: it opens with what is starting,
 * logs readable lines with local times even through a pipe (LOG_FORMAT unset), and says which URL to open.
 * Run as npm's script runs it (tsx start.ts), on free ports and temporary directories.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { ROOT } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

describe('npm start', () => {
  it('opens with what it starts, logs readable lines, names the page\'s URL, and stops on SIGTERM', async () => {
    const dir = await tempDir(cleanup)
    const { scripts } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    expect(scripts.start).toBe('node --import tsx start.ts')
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'start.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', MQTT_PORT: '0', DATA_DIR: path.join(dir, 'data'), STATE_DIR: path.join(dir, 'state'), RELAY_ID: 'npm-start-test' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    cleanup.defer(async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); await exited })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
    await expect.poll(() => stdout, { timeout: 25_000 }).toMatch(/Printwire is running\. Open http:\/\/localhost:(\d+)\/ and print on "demo"\./)
    const lines = stdout.split('\n').filter((line) => line !== '')
    expect(lines[0]).toMatch(/^Printwire: starting the broker with the web page, a relay and a simulated Boca printer "demo"/)
    const logLines = lines.filter((line) => line.startsWith('['))
    expect(logLines.length).toBeGreaterThan(3)
    for (const line of logLines) expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN) \(printwire\): /)
    expect(lines.filter((line) => line.startsWith('{'))).toEqual([])
    const port = /Open http:\/\/localhost:(\d+)\//.exec(stdout)?.[1]
    expect(stdout).toContain(`[broker] broker listening {"mqtt":"mqtt://127.0.0.1:`)
    expect(stdout).toContain(`"web":"http://127.0.0.1:${port}/"`)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/INFO \(printwire\): stopped$/)
  })
})
