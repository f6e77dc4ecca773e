/**
 * A real Mosquitto (Debian's package) running the repo's own `mosquitto.conf`, with only its ports and
 * paths changed (free ports on 127.0.0.1, a temporary directory), and the password and ACL files that
 * `printwire mosquitto-export` writes from an AUTH_FILE.
 */
import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { readAuthFile } from '../access/authFile.ts'
import { mosquittoFiles, writeMosquittoFiles } from '../access/mosquittoExport.ts'
import { DEFAULT_TOPIC_PREFIX } from '../protocol/index.ts'
import { freePort } from './ports.ts'
import { ROOT } from './processes.ts'

const MOSQUITTO = '/usr/sbin/mosquitto'

export interface MosquittoBroker {
  mqttUrl: string
  /** Mosquitto's own WebSocket listener (the page reaches it through the web server's /mqtt). */
  wsUrl: string
  mqttPort: number
  pid: number
  log(): string
  stop(): Promise<void>
}

/**
 * The repo's mosquitto.conf with each directive the test must change replaced; throws if one is missing.
 * The password and ACL files are read from `dir`, and persistence goes there too unless `dataDir` is given.
 */
export async function testMosquittoConf (mqttPort: number, wsPort: number, dir: string, dataDir = dir): Promise<string> {
  let conf = await readFile(path.join(ROOT, 'mosquitto.conf'), 'utf8')
  const replace = (pattern: RegExp, line: string): void => {
    if (!pattern.test(conf)) throw new Error(`mosquitto.conf has no line matching ${pattern}`)
    conf = conf.replace(pattern, line)
  }
  replace(/^listener 1883$/m, `listener ${mqttPort} 127.0.0.1`)
  replace(/^listener 9001$/m, `listener ${wsPort} 127.0.0.1`)
  replace(/^password_file .*$/m, `password_file ${path.join(dir, 'passwords')}`)
  replace(/^acl_file .*$/m, `acl_file ${path.join(dir, 'acl')}`)
  replace(/^persistence_location .*$/m, `persistence_location ${dataDir}/`)
  // Started as root, Mosquitto would switch to the `mosquitto` user, who cannot read these 0600 files.
  if (os.userInfo().uid === 0) conf += '\nuser root\n'
  return conf
}

/** Exports `authFile`'s users to `dir` (passwords, acl) and runs Mosquitto on them, persisting in `dir`. */
export async function startMosquitto (authFile: string, dir: string): Promise<MosquittoBroker> {
  await writeMosquittoFiles(dir, mosquittoFiles(await readAuthFile(authFile), DEFAULT_TOPIC_PREFIX, authFile))
  return await runMosquitto({ authDir: dir, dataDir: dir })
}

/**
 * Runs Mosquitto on the `passwords` and `acl` files already in `authDir` (as `printwire mosquitto-export`
 * wrote them), persisting in `dataDir`, where its test mosquitto.conf is written too.
 */
export async function runMosquitto (dirs: { authDir: string, dataDir: string }): Promise<MosquittoBroker> {
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} not found: install Debian's mosquitto (apt-get install mosquitto; .ci/run does)`)
  const mqttPort = await freePort()
  const wsPort = await freePort()
  const confFile = path.join(dirs.dataDir, 'mosquitto.conf')
  await writeFile(confFile, await testMosquittoConf(mqttPort, wsPort, dirs.authDir, dirs.dataDir))
  const child = spawn(MOSQUITTO, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (chunk: Buffer): void => { output += chunk.toString() }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let exitCode: number | null | undefined
  child.once('exit', (code) => { exitCode = code })
  // Mosquitto's stdout is block-buffered when it is not a terminal: wait for its ports, not its log. Both: it
  // opens the WebSockets listener after the TCP one, and a client of the web server's /mqtt in between was refused.
  const deadline = Date.now() + 10_000
  for (const port of [mqttPort, wsPort]) {
    while (!await accepts(port)) {
      if (exitCode !== undefined) throw new Error(`mosquitto exited (${exitCode}): ${output}`)
      if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`mosquitto did not open port ${port}: ${output}`) }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return {
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    mqttPort,
    pid: child.pid ?? 0,
    log: () => output,
    stop: async () => { child.kill('SIGKILL'); await exited }
  }
}

function accepts (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}
