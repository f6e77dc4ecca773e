/**
 * `import { connect } from 'printwire/client'` from plain `node` (no TypeScript loader): the package's
 * `exports` point at the JavaScript and type declarations that its `prepare` script builds into dist/ (run
 * by `npm install` and `npm ci`). A child `node` in a temporary directory, whose node_modules/printwire is
 * this repository, prints through a real broker, relay and simulated printer.
 */
import { spawn } from 'node:child_process'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startVenue } from '../../harness/venue.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { ROOT } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

function run (command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

const SCRIPT = `
import { connect, PrintwireError } from 'printwire/client'
const [url, printerId] = process.argv.slice(2)
const pw = await connect(url)
try {
  // A ticket with a 256-byte graphic holding every byte value.
  const graphic = new Uint8Array(256).map((_, i) => i)
  const bytes = new Uint8Array([...new TextEncoder().encode('<RC10,10><G256>'), ...graphic, ...new TextEncoder().encode('<p>')])
  const result = await pw.print(printerId, bytes, { id: 'from-node-1', timeoutMs: 20000 })
  const refused = await pw.print('no/such', 'x').catch((error) => error)
  console.log(JSON.stringify({ result, refused: { isPrintwireError: refused instanceof PrintwireError, code: refused.code } }))
} finally {
  await pw.close()
}
`

const JOB = Buffer.concat([Buffer.from('<RC10,10><G256>'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('<p>')])

describe('printwire/client from plain node', () => {
  beforeAll(async () => {
    // What \`npm ci\` and \`npm install\` run: the package's prepare script builds dist/.
    const built = await run('npm', ['run', '--silent', 'prepare'], ROOT)
    expect(built.code, built.stderr + built.stdout).toBe(0)
  }, 120_000)

  it('declares its types and exports, and prints through a real broker and relay', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string, default: string }> }
    const declarations = await readFile(path.join(ROOT, pkg.exports['./client']?.types ?? 'missing'), 'utf8')
    expect(declarations).toMatch(/export \{ connect, PrintwireClient/)

    const { broker, printer: sim } = await startVenue(cleanup)

    const app = await tempDir(cleanup, 'printwire-app-')
    await mkdir(path.join(app, 'node_modules'))
    await symlink(ROOT, path.join(app, 'node_modules', 'printwire'), 'dir')
    await writeFile(path.join(app, 'print.mjs'), SCRIPT)
    const printed = await run(process.execPath, ['print.mjs', broker.mqttUrl, 'lobby'], app)
    expect(printed.code, printed.stderr).toBe(0)
    const output = JSON.parse(printed.stdout) as { result: Record<string, unknown>, refused: Record<string, unknown> }
    expect(output.result).toMatchObject({ jobId: 'from-node-1', printerId: 'lobby', status: 'printed', bytes: JOB.length })
    expect(output.refused).toEqual({ isPrintwireError: true, code: 'INVALID_ARGUMENT' })
    expect(sim.tickets).toHaveLength(1)
    expect(sim.tickets[0]?.bytes.equals(JOB)).toBe(true)
  })
})
