/**
 * `printwire relay` (and broker, printer-sim) runs the part in its own process, as systemd and Docker start it:
 * SIGTERM reaches the part's handler, which stops it, exits 0 and leaves no child process behind (tsx's esbuild
 * service included). The relay reads a config file under the environment; a bad one is refused, naming it.
 * LOG_FORMAT=pretty gives readable lines, flushed to the last one before the exit.
 */
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { printJob } from '../../cli/printCommand.ts'
import { CommandProcess, descendantsOf, processAlive } from '../../harness/commandProcess.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, tempDir } from '../../harness/parts.ts'
import { ROOT } from '../../harness/processes.ts'

const BIN = path.join(ROOT, 'bin', 'printwire.js')
const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

function printwire (args: string[], env: Record<string, string>): CommandProcess {
  return new CommandProcess(cleanup, { bin: BIN, args, cwd: ROOT, env })
}

/** SIGTERM to the process alone: it must exit 0 by itself, and take every process it started with it. */
async function stopsCleanly (part: CommandProcess): Promise<void> {
  const children = part.descendants()
  expect(await part.kill('SIGTERM')).toBe(0)
  expect(part.child.signalCode).toBeNull()
  expect(children.filter(processAlive), `children left running after the exit: ${children.join(', ')}`).toEqual([])
}

describe('printwire <part> runs it in this process', () => {
  it('relay: prints, and stops on SIGTERM with exit 0 and no child process left', async () => {
    const broker = cleanup.add(await startBroker())
    const printer = cleanup.add(await startPrinter())
    const state = await tempDir(cleanup)
    const relay = printwire(['relay'], relayEnv(broker.mqttUrl, { lobby: printer }, state, { RELAY_ID: 'command-relay' }))
    const started = await relay.waitForLog('relay started')
    // The part logs from the process that was spawned: no npm or tsx process in between.
    expect(started.pid).toBe(relay.child.pid)
    await relay.waitForLog('connected to broker')
    const result = await printJob({ url: broker.mqttUrl, topicPrefix: 'printers', printerId: 'lobby', data: Buffer.from('<RC10,10><F3>Hi<p>'), copies: 1, timeoutMs: 20_000, waitForPrinterMs: 20_000, progress: () => {} })
    expect(result.status).toBe('printed')
    expect(printer.tickets).toHaveLength(1)
    await stopsCleanly(relay)
    expect(relay.logs.map((line) => line.msg)).toEqual(expect.arrayContaining(['stopping', 'relay stopped', 'stopped']))
  })

  it('relay --config FILE: the file\'s settings, the environment over them; LOG_FORMAT=pretty flushed to the last line', async () => {
    const broker = cleanup.add(await startBroker())
    const printer = cleanup.add(await startPrinter())
    const state = await tempDir(cleanup)
    const file = path.join(state, 'relay.json')
    const { RELAY_ID: _unused, ...fromFile } = relayEnv(broker.mqttUrl, { lobby: printer }, path.join(state, 'spool'))
    await writeFile(file, JSON.stringify({ ...fromFile, RELAY_ID: 'from-file', LOG_FORMAT: 'json' }))
    const relay = printwire(['relay', '--config', file], { RELAY_ID: 'from-env', LOG_FORMAT: 'pretty' })
    // Pretty lines are not JSON: wait on the text.
    await expect.poll(() => relay.stdout, { timeout: 20_000 }).toMatch(/\] INFO \(relay\): connected to broker /)
    // What came from the file: not RELAY_ID nor LOG_FORMAT, which the environment set.
    const fileLine = /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(relay\): config file read \(the environment overrides it\) \{"file":".*relay\.json","variables":\[.*\]\}$/m.exec(relay.stdout)?.[0]
    expect(fileLine).toContain('"PRINTERS"')
    expect(fileLine).not.toContain('"RELAY_ID"')
    expect(fileLine).not.toContain('"LOG_FORMAT"')
    expect(relay.stdout).toMatch(/INFO \(relay\): relay started \{"relayId":"from-env","broker":"mqtt:\/\/127\.0\.0\.1:\d+","printers":\["lobby=/)
    await stopsCleanly(relay)
    expect(relay.stdout.trimEnd().split('\n').at(-1)).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(relay\): stopped$/)
  })

  it('relay with CONFIG_FILE naming a file that is not there: exit 1, the file named, nothing started', async () => {
    const state = await tempDir(cleanup)
    const missing = path.join(state, 'nope.json')
    const relay = printwire(['relay'], { CONFIG_FILE: missing, PRINTERS: 'lobby=127.0.0.1' })
    expect(await relay.exitCode()).toBe(1)
    expect(relay.stderr).toContain(`invalid relay configuration:\n  - config file ${missing} (CONFIG_FILE or --config): cannot be read: ENOENT`)
    expect(relay.stdout).toBe('')
  })

  it('relay --config with a bad value: exit 1, naming the variable and the file', async () => {
    const state = await tempDir(cleanup)
    const file = path.join(state, 'relay.json')
    await writeFile(file, JSON.stringify({ PRINTERS: 'lobby=127.0.0.1', MQTT_URL: 'broker.example.com:1883' }))
    const relay = printwire(['relay', '--config', file], {})
    expect(await relay.exitCode()).toBe(1)
    expect(relay.stderr).toContain(`MQTT_URL (in ${file}): must be an mqtt://, mqtts://, ws:// or wss:// URL`)
  })

  it('broker: listens, and stops on SIGTERM with exit 0 and no child process left', async () => {
    const data = await tempDir(cleanup)
    const broker = printwire(['broker'], { PORT: '0', MQTT_PORT: '0', PERSISTENCE: 'level', DATA_DIR: data })
    const listening = await broker.waitForLog('broker listening')
    expect(listening.pid).toBe(broker.child.pid)
    await stopsCleanly(broker)
  })

  it('web --config FILE: listens with the file\'s settings, and stops on SIGTERM with exit 0 and no child process left', async () => {
    const broker = cleanup.add(await startBroker())
    const dir = await tempDir(cleanup)
    const file = path.join(dir, 'web.json')
    await writeFile(file, JSON.stringify({ PORT: 0, LISTEN_HOST: '127.0.0.1', MQTT_URL: broker.mqttUrl, BROKER_WS_URL: broker.wsUrl, DATA_DIR: dir }))
    const web = printwire(['web', '--config', file], {})
    const listening = await web.waitForLog('web server listening')
    expect(listening).toMatchObject({ pid: web.child.pid, broker: broker.wsUrl })
    await stopsCleanly(web)
  })

  it('printer-sim with its own flags: listens, and stops on SIGTERM with exit 0', async () => {
    const sim = printwire(['printer-sim', '--host', '127.0.0.1', '--port', '0', '--state', 'paper-out'], {})
    const listening = await sim.waitForLog('printer simulator listening')
    expect(listening).toMatchObject({ host: '127.0.0.1', state: 'paper-out' })
    await stopsCleanly(sim)
  })
})

describe('a part started through npm stops when npm is stopped', () => {
  // npm (and npx) end on SIGTERM without passing it on: the part was left running with no parent (issue 14).
  for (const [name, command, args] of [
    ['npm run printer-sim', 'npm', ['run', '--silent', 'printer-sim', '--', '--host', '127.0.0.1', '--port', '0']],
    ['npx printwire printer-sim', 'npx', ['printwire', 'printer-sim', '--host', '127.0.0.1', '--port', '0']]
  ] as const) {
    it(`${name}: a SIGTERM to npm alone stops the part too`, async () => {
      const npm = spawn(command, [...args], { cwd: ROOT, env: { ...process.env, LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] })
      cleanup.defer(() => { for (const pid of [npm.pid ?? 0, ...descendantsOf(npm.pid ?? 0)]) { try { process.kill(pid, 'SIGKILL') } catch {} } })
      let stdout = ''
      npm.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
      await expect.poll(() => stdout, { timeout: 30_000 }).toContain('printer simulator listening')
      const part = descendantsOf(npm.pid ?? 0)
      expect(part.length).toBeGreaterThan(0)
      npm.kill('SIGTERM')
      await expect.poll(() => part.filter(processAlive), { timeout: 10_000 }).toEqual([])
      expect(stdout).toMatch(/"msg":"stopping".*the process that started this one is gone|the process that started this one is gone.*"msg":"stopping"/)
    }, 60_000)
  }
})
