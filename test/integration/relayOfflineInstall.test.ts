/**
 * The relay on a venue box with no git and no internet: `npm run pack:relay` (deploy/packRelay.ts) makes one
 * tarball, which installs into an empty directory with `npm install --offline` and an empty npm cache (nothing
 * can come from a registry), runs no install script, and runs the relay: against a real broker and a simulated
 * printer it prints, then stops on SIGTERM with exit 0. The same tarball unpacked with tar is what the systemd
 * unit and Dockerfile.relay run: their command, pointed at the unpacked copy, runs the relay the same way.
 * The tarball is built once for the file (a few seconds).
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile, mkdtemp, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { packRelay } from '../../deploy/packRelay.ts'
import { printJob } from '../../cli/printCommand.ts'
import { CommandProcess, processAlive } from '../../harness/commandProcess.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, tempDir } from '../../harness/parts.ts'
import { ROOT } from '../../harness/processes.ts'

const run = promisify(execFile)
const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

let packDir = ''
let tarball = ''
beforeAll(async () => {
  packDir = await mkdtemp(path.join(os.tmpdir(), 'printwire-pack-test-'))
  tarball = await packRelay(packDir)
}, 120_000)
afterAll(async () => { await rm(packDir, { recursive: true, force: true }) })

/** A relay from `bin` (cwd `cwd`), against a fresh broker and printer: prints one job, then SIGTERM must end it with 0 and no child left. */
async function relayPrintsAndStops (bin: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<CommandProcess> {
  const broker = cleanup.add(await startBroker())
  const printer = cleanup.add(await startPrinter())
  const state = await tempDir(cleanup)
  const relay = new CommandProcess(cleanup, { bin, args, cwd, env: { ...relayEnv(broker.mqttUrl, { lobby: printer }, state, { RELAY_ID: 'offline-install' }), ...extraEnv } })
  const started = await relay.waitForLog('relay started')
  expect(started.pid).toBe(relay.child.pid)
  const result = await printJob({ url: broker.mqttUrl, topicPrefix: 'printers', printerId: 'lobby', data: Buffer.from('<RC10,10><F3>Offline<p>'), copies: 1, timeoutMs: 20_000, waitForPrinterMs: 20_000, progress: () => {} })
  expect(result.status).toBe('printed')
  expect(printer.tickets).toHaveLength(1)
  // The spool (LevelDB, the one native module) is open in STATE_DIR.
  expect(readdirSync(state)).toContain('spool')
  const children = relay.descendants()
  expect(await relay.kill('SIGTERM')).toBe(0)
  expect(children.filter(processAlive)).toEqual([])
  expect(relay.logs.map((line) => line.msg)).toContain('stopped')
  return relay
}

describe('the relay tarball (npm run pack:relay)', () => {
  it('holds the bundled relay, the unit, an example config and LevelDB\'s prebuilt binding, and no build recipe', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball])
    const files = stdout.split('\n')
    expect(files).toEqual(expect.arrayContaining(['package/package.json', 'package/printwire-relay.mjs', 'package/printwire-relay.service', 'package/relay.example.json']))
    expect(files.some((file) => /^package\/node_modules\/classic-level\/prebuilds\/linux-x64\/.+\.node$/.test(file))).toBe(true)
    expect(files.some((file) => /^package\/node_modules\/classic-level\/prebuilds\/linux-arm64\/.+\.node$/.test(file))).toBe(true)
    expect(files.filter((file) => file.endsWith('binding.gyp'))).toEqual([])
    // No TypeScript runner or bundler at run time.
    expect(files.filter((file) => /node_modules\/(tsx|esbuild|@esbuild)\//.test(file))).toEqual([])
    expect((await stat(tarball)).size).toBeLessThan(10 * 1024 * 1024)
  })

  it('installs into an empty directory with npm --offline and an empty cache, runs no install script, and runs the relay', async () => {
    const dir = await tempDir(cleanup)
    const home = await tempDir(cleanup)
    const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', path.join(home, 'npm-cache'), '--registry', 'http://127.0.0.1:9/', tarball], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: home, NPM_CONFIG_UPDATE_NOTIFIER: 'false' }
    })
    expect(install.stderr).not.toMatch(/warn|ERR/i)
    expect(install.stdout).toMatch(/added 1 package/)
    expect(existsSync(path.join(dir, 'node_modules', '.bin', 'printwire'))).toBe(true)
    await relayPrintsAndStops(path.join(dir, 'node_modules', '.bin', 'printwire'), ['relay'], dir)
  })

  it('unpacked with tar, the systemd unit\'s and Dockerfile.relay\'s command runs the relay from a config file', async () => {
    const unpacked = await tempDir(cleanup)
    await run('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'])
    const unit = await readFile(path.join(ROOT, 'deploy', 'printwire-relay.service'), 'utf8')
    const execStart = (/^ExecStart=(.+)$/m.exec(unit)?.[1] ?? '').split(' ')
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile.relay'), 'utf8')
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))
    const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(finalStage)?.[1] ?? '[]') as string[]
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(finalStage)?.[1] ?? '[]') as string[]
    // Both run node on the bundle, exec form, no shell or npm: the signal reaches the relay.
    expect(execStart).toEqual(['/usr/bin/node', '/opt/printwire-relay/printwire-relay.mjs', 'relay'])
    expect([...entrypoint, ...cmd]).toEqual(['node', '/opt/printwire-relay/printwire-relay.mjs', 'relay'])
    expect(finalStage).toMatch(/^USER node$/m)
    expect(finalStage).toMatch(/^STOPSIGNAL SIGTERM$/m)
    const [, bundle = '', ...args] = execStart
    const config = path.join(await tempDir(cleanup), 'relay.json')
    // The config file the unit reads (CONFIG_FILE); its example has every name right.
    const example = JSON.parse(await readFile(path.join(unpacked, 'relay.example.json'), 'utf8')) as Record<string, string>
    expect(Object.keys(example).sort()).toEqual(['MQTT_PASSWORD', 'MQTT_URL', 'MQTT_USERNAME', 'PRINTERS', 'RELAY_ID'])
    await mkdir(path.dirname(config), { recursive: true })
    const relay = await (async () => {
      const broker = cleanup.add(await startBroker())
      const printer = cleanup.add(await startPrinter())
      await writeFile(config, JSON.stringify({ MQTT_URL: broker.mqttUrl, PRINTERS: `lobby=${printer.address}`, RELAY_ID: 'from-unit-config' }))
      const state = await tempDir(cleanup)
      const part = new CommandProcess(cleanup, { bin: bundle.replace('/opt/printwire-relay', unpacked), args, cwd: '/', env: { CONFIG_FILE: config, STATE_DIR: state, LOG_FORMAT: 'json' } })
      const started = await part.waitForLog('relay started')
      expect(started).toMatchObject({ relayId: 'from-unit-config' })
      const result = await printJob({ url: broker.mqttUrl, topicPrefix: 'printers', printerId: 'lobby', data: Buffer.from('<RC10,10><F3>Unit<p>'), copies: 1, timeoutMs: 20_000, waitForPrinterMs: 20_000, progress: () => {} })
      expect(result.status).toBe('printed')
      return part
    })()
    expect(await relay.kill('SIGTERM')).toBe(0)
  })

  it('unpacked, refuses a bad config file with exit 1, naming the file and the variable', async () => {
    const unpacked = await tempDir(cleanup)
    await run('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'])
    const config = path.join(unpacked, 'relay.json')
    await writeFile(config, JSON.stringify({ PRINTERS: 'lobby=127.0.0.1', RELAY_ID: 'not valid!' }))
    const relay = new CommandProcess(cleanup, { bin: path.join(unpacked, 'printwire-relay.mjs'), args: ['relay', '--config', config], cwd: unpacked, env: {} })
    expect(await relay.exitCode()).toBe(1)
    expect(relay.stderr).toContain(`RELAY_ID (in ${config}): must be 1-64 characters of A-Z a-z 0-9 _ -`)
  })
})
