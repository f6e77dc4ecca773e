/**
 * docker-compose.yml without Docker (none runs here): the file is read as Compose reads it (YAML with merge
 * keys, `${VAR:-default}` interpolation) and its services are run as local processes, in its dependency
 * order, with the commands and environment it gives them. Only what a container provides is translated:
 * service host names become 127.0.0.1, their ports free ones, `0.0.0.0` 127.0.0.1, named volumes temporary
 * directories, and `npm run <script>` the script's entry file. Mosquitto is Debian's, on the repo's
 * mosquitto.conf (as the eclipse-mosquitto image would run it). `.ci/run` checks the file with
 * `docker-compose config` as well.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { runMosquitto, type MosquittoBroker } from '../../harness/mosquittoBroker.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { basicAuth, callApi } from '../../harness/httpApi.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'
import { PartProcess, ROOT } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

interface DependsOn { condition: string }
interface ComposeService {
  image?: string
  build?: string
  user?: string
  command?: string[]
  environment?: Record<string, string | number>
  volumes?: string[]
  ports?: string[]
  depends_on?: Record<string, DependsOn>
  restart?: string
}
interface ComposeFile {
  services: Record<string, ComposeService>
  volumes?: Record<string, unknown>
}

const PRINTWIRE_IMAGE = 'printwire:local'
const MOSQUITTO_IMAGE = 'eclipse-mosquitto:2'
/** Variables holding a port the service itself listens on (the printer simulator's, the web server's). */
const LISTEN_PORT_VARS = ['PRINTER_SIM_PORT', 'PORT']

/**
 * Compose's variable substitution: `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
 * `$VAR`, and `$$` for a literal `$`. Any other form is left as it is, and the test then fails on it.
 */
function interpolate (value: string, env: Record<string, string>): string {
  return value.replace(/\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (match: string, braced: string | undefined, operator: string | undefined, fallback: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$'
      const name = braced ?? bare ?? ''
      const set = Object.hasOwn(env, name) ? env[name] : undefined
      if (operator === ':-') return set === undefined || set === '' ? fallback ?? '' : set
      if (operator === '-') return set ?? fallback ?? ''
      return set ?? ''
    })
}

function interpolateAll (value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, env)
  if (Array.isArray(value)) return value.map((item) => interpolateAll(item, env))
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateAll(item, env)]))
  }
  return value
}

/** docker-compose.yml as Compose sees it once `env` is the shell's environment. */
async function readCompose (env: Record<string, string> = {}): Promise<ComposeFile> {
  const text = await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8')
  const raw: unknown = parse(text, { merge: true })
  const leftover = JSON.stringify(interpolateAll(raw, {})).match(/\$\{[^}]*\}/)
  expect(leftover, 'a variable form this test does not interpolate').toBeNull()
  return interpolateAll(raw, env) as ComposeFile
}

function service (compose: ComposeFile, name: string): ComposeService {
  const found = compose.services[name]
  if (found === undefined) throw new Error(`docker-compose.yml has no service "${name}"`)
  return found
}

function environment (svc: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(svc.environment ?? {}).map(([key, value]) => [key, String(value)]))
}

/** Services in an order that starts each after what it depends on. */
function startOrder (compose: ComposeFile): string[] {
  const order: string[] = []
  const visit = (name: string, chain: string[]): void => {
    if (order.includes(name)) return
    if (chain.includes(name)) throw new Error(`dependency cycle: ${[...chain, name].join(' -> ')}`)
    for (const dep of Object.keys(service(compose, name).depends_on ?? {})) visit(dep, [...chain, name])
    order.push(name)
  }
  for (const name of Object.keys(compose.services)) visit(name, [])
  return order
}

/** `source:target[:mode]` volume entries of a service. */
function mounts (svc: ComposeService): Array<{ source: string, target: string, mode: string | undefined }> {
  return (svc.volumes ?? []).map((entry) => {
    const [source = '', target = '', mode] = entry.split(':')
    return { source, target, mode }
  })
}

interface MosquittoListeners { mqtt: number, websockets: number, authDir: string, dataDir: string }

/** The listeners and paths of the repo's mosquitto.conf. */
async function mosquittoConf (): Promise<MosquittoListeners> {
  const conf = await readFile(path.join(ROOT, 'mosquitto.conf'), 'utf8')
  const listeners = new Map<string, number>()
  for (const match of conf.matchAll(/^listener (\d+)\s*\nprotocol (\w+)$/gm)) listeners.set(match[2] ?? '', Number(match[1]))
  const directive = (name: string): string => {
    const value = new RegExp(`^${name} (.+)$`, 'm').exec(conf)?.[1]
    if (value === undefined) throw new Error(`mosquitto.conf has no ${name}`)
    return value.trim()
  }
  const passwords = path.posix.dirname(directive('password_file'))
  expect(path.posix.dirname(directive('acl_file'))).toBe(passwords)
  return {
    mqtt: listeners.get('mqtt') ?? 0,
    websockets: listeners.get('websockets') ?? 0,
    authDir: passwords,
    dataDir: directive('persistence_location').replace(/\/$/, '')
  }
}

/** The entry file of each part `printwire <part>` runs in process (cli/program.ts), as `npm run <part>` does. */
const PART_ENTRIES: Record<string, string> = { relay: 'relay/main.ts', broker: 'broker/main.ts', web: 'web/server/main.ts', 'printer-sim': 'printer-sim/main.ts' }

/** `npm run <script>`: the entry file the script runs (`tsx <entry>.ts`, or `node bin/printwire.js <part>`). */
async function npmRunEntry (command: string[]): Promise<string> {
  expect(command.slice(0, 2)).toEqual(['npm', 'run'])
  const scripts = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  const script = scripts[command[2] ?? ''] ?? ''
  const entry = /^tsx (\S+\.ts)$/.exec(script)?.[1] ?? PART_ENTRIES[/^node bin\/printwire\.js (\S+)$/.exec(script)?.[1] ?? '']
  if (entry === undefined) throw new Error(`npm run ${command[2]} is "${script}", not "tsx <entry>.ts" nor "node bin/printwire.js <part>"`)
  return entry
}

/** A command run as a container would run it (cwd: the image's WORKDIR, the repo), in its own process group. */
class CommandRun {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''
  private readonly exited: Promise<number | null>

  constructor (command: string[], env: Record<string, string>) {
    const [file = '', ...args] = command
    this.child = spawn(file, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => { this.stdout += text })
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => { this.stderr += text })
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
    cleanup.defer(() => this.stop())
  }

  /** The exit code; rejects if the command is still running after `timeoutMs`. */
  async exit (timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined
    const hung = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.child.spawnfile} did not exit within ${timeoutMs} ms; stdout: ${this.stdout}; stderr: ${this.stderr}`)), timeoutMs)
    })
    try {
      return await Promise.race([this.exited, hung])
    } finally {
      clearTimeout(timer)
    }
  }

  async stop (): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      try { process.kill(-this.child.pid, 'SIGKILL') } catch { /* already gone */ }
    }
    await this.exited
  }
}

describe('docker-compose.yml, as a file', () => {
  it('has the services, images, mounts, ports and dependencies the topology needs', async () => {
    const compose = await readCompose()
    expect(Object.keys(compose.services).sort()).toEqual(['auth', 'demo-print', 'mosquitto', 'printer', 'relay', 'web'])
    for (const name of ['auth', 'printer', 'relay', 'web', 'demo-print']) {
      expect(service(compose, name), name).toMatchObject({ image: PRINTWIRE_IMAGE, build: '.' })
    }
    expect(existsSync(path.join(ROOT, 'Dockerfile'))).toBe(true)

    const conf = await mosquittoConf()
    const mosquitto = service(compose, 'mosquitto')
    expect(mosquitto.image).toBe(MOSQUITTO_IMAGE)
    expect(mosquitto.volumes).toContain('./mosquitto.conf:/mosquitto/config/mosquitto.conf:ro')
    expect(mosquitto.ports).toContain(`${conf.mqtt}:${conf.mqtt}`)
    expect(mosquitto.depends_on).toEqual({ auth: { condition: 'service_completed_successfully' } })
    // Mosquitto reads the password and ACL files from the volume the auth service exports them to.
    const authMount = mounts(mosquitto).find((m) => m.target === conf.authDir)
    expect(authMount, `a volume at ${conf.authDir}`).toBeDefined()
    const auth = service(compose, 'auth')
    const authTarget = mounts(auth).find((m) => m.source === authMount?.source)?.target
    expect(auth.command?.join(' ')).toContain(`mosquitto-export --out ${authTarget}`)
    // Mosquitto's user in its image: the exported files are readable by their owner only.
    expect(auth.user).toBe('1883:1883')
    expect(mounts(mosquitto).some((m) => m.target === conf.dataDir)).toBe(true)

    const web = service(compose, 'web')
    expect(web.ports).toContain(`${environment(web).PORT}:${environment(web).PORT}`)
    expect(service(compose, 'relay').restart).toBe('unless-stopped')
    expect(service(compose, 'demo-print').command).toContain('--wait-for-printer')

    // Every address names a service and one of its ports; Mosquitto's by the listener of that protocol.
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const value of [...Object.values(environment(svc)), ...(svc.command ?? [])]) {
        for (const [, scheme, host, port] of value.matchAll(/(?:(\w+):\/\/)?\b([a-z][a-z0-9-]*):(\d+)\b/g)) {
          if (host === undefined || !Object.hasOwn(compose.services, host)) continue
          if (host === 'mosquitto') expect(Number(port), `${name}: ${value}`).toBe(scheme === 'ws' ? conf.websockets : conf.mqtt)
          if (host === 'printer') expect(port, `${name}: ${value}`).toBe(environment(service(compose, 'printer')).PRINTER_SIM_PORT)
        }
      }
      for (const dep of Object.keys(svc.depends_on ?? {})) expect(Object.keys(compose.services), `${name} depends on ${dep}`).toContain(dep)
      for (const { source } of mounts(svc)) {
        if (!source.startsWith('.')) expect(Object.keys(compose.volumes ?? {}), `${name} mounts ${source}`).toContain(source)
      }
    }
    // The files the services run are in the image (not left out by .dockerignore).
    const ignored = (await readFile(path.join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
    const used = ['examples/demo-ticket.fgl', 'bin/printwire.js', 'package.json', 'package-lock.json', 'mosquitto.conf']
    for (const name of ['printer', 'relay', 'web']) used.push(await npmRunEntry(service(compose, name).command ?? []))
    for (const file of used) {
      expect(existsSync(path.join(ROOT, file)), file).toBe(true)
      expect(ignored, `${file} is left out of the image`).not.toContain(file.split('/')[0])
    }
  })

  it('logs every part in as a user the auth service creates, with that user\'s password, whatever the passwords are', async () => {
    const passwords = { PRINTWIRE_RELAY_PASSWORD: 'relay-secret', PRINTWIRE_WEB_PASSWORD: 'web-secret', PRINTWIRE_DEMO_PASSWORD: 'demo-secret' }
    const compose = await readCompose(passwords)
    const auth = service(compose, 'auth')
    const authEnv = environment(auth)
    const users = new Map<string, { password: string, role: string, printers: string }>()
    for (const [, name = '', variable = '', role = '', printers = ''] of (auth.command?.join('\n') ?? '').matchAll(/printwire user add (\S+) --password "\$(\w+)" --role (\w+) --printers '?([^'\s]+)'?/g)) {
      users.set(name, { password: authEnv[variable] ?? '', role, printers })
    }
    expect(Object.fromEntries(users)).toEqual({
      relay: { password: 'relay-secret', role: 'relay', printers: 'demo' },
      web: { password: 'web-secret', role: 'admin', printers: '*' },
      demo: { password: 'demo-secret', role: 'client', printers: 'demo' }
    })
    for (const name of ['relay', 'web', 'demo-print']) {
      const env = environment(service(compose, name))
      expect(users.get(env.MQTT_USERNAME ?? '')?.password, `${name} logs in as ${env.MQTT_USERNAME}`).toBe(env.MQTT_PASSWORD)
    }
    // Without the variables, the documented defaults.
    const defaults = environment(service(await readCompose(), 'auth'))
    expect([defaults.PRINTWIRE_RELAY_PASSWORD, defaults.PRINTWIRE_WEB_PASSWORD, defaults.PRINTWIRE_DEMO_PASSWORD]).toEqual(['relay', 'web', 'demo'])
  })
})

describe('docker-compose.yml, run as local processes', () => {
  it('creates the users, starts Mosquitto, the printer, the relay and the web server, and prints the demo ticket', async () => {
    const compose = await readCompose()
    const conf = await mosquittoConf()

    // Named volumes: one temporary directory each, shared by the services that mount it.
    const volumeDirs = new Map<string, string>()
    for (const name of Object.keys(compose.volumes ?? {})) volumeDirs.set(name, await tempDir(cleanup, `printwire-compose-${name}-`))
    // Service addresses (`printer:9100`): a free port on 127.0.0.1 each; Mosquitto's are its own.
    const ports = new Map<string, number>()
    const portFor = async (address: string): Promise<number> => {
      let port = ports.get(address)
      if (port === undefined) {
        if (address.startsWith('mosquitto:')) throw new Error(`${address} is used before Mosquitto started`)
        port = await freePort()
        ports.set(address, port)
      }
      return port
    }
    /** A value as the service sees it inside its container, translated to this machine. */
    const local = async (name: string, value: string, variable?: string): Promise<string> => {
      if (variable !== undefined && LISTEN_PORT_VARS.includes(variable)) return String(await portFor(`${name}:${value}`))
      let result = value.replaceAll('0.0.0.0', '127.0.0.1')
      for (const mount of mounts(service(compose, name))) {
        const dir = volumeDirs.get(mount.source)
        if (dir !== undefined) result = result.replaceAll(mount.target, dir)
      }
      for (const [address, host, port] of [...result.matchAll(/\b([a-z][a-z0-9-]*):(\d+)\b/g)]) {
        if (host !== undefined && Object.hasOwn(compose.services, host)) result = result.replace(address, `127.0.0.1:${await portFor(`${host}:${port}`)}`)
      }
      return result
    }
    const localEnv = async (name: string): Promise<Record<string, string>> => {
      const env: Record<string, string> = {}
      for (const [key, value] of Object.entries(environment(service(compose, name)))) env[key] = await local(name, value, key)
      return env
    }
    const localCommand = async (name: string): Promise<string[]> => {
      const command = service(compose, name).command
      if (!Array.isArray(command)) throw new Error(`${name}: command must be a list`)
      return await Promise.all(command.map((part) => local(name, part)))
    }

    const runs = new Map<string, CommandRun>()
    const parts = new Map<string, PartProcess>()
    let broker: MosquittoBroker | undefined
    for (const name of startOrder(compose)) {
      const svc = service(compose, name)
      for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
        if (condition !== 'service_completed_successfully') continue
        const run = runs.get(dep)
        expect(await run?.exit(60_000), `${dep} completed successfully; stderr: ${run?.stderr}`).toBe(0)
      }
      if (svc.image === MOSQUITTO_IMAGE) {
        const dir = (target: string): string => {
          const volume = mounts(svc).find((m) => m.target === target)?.source ?? ''
          const found = volumeDirs.get(volume)
          if (found === undefined) throw new Error(`mosquitto mounts no volume at ${target}`)
          return found
        }
        broker = cleanup.add(await runMosquitto({ authDir: dir(conf.authDir), dataDir: dir(conf.dataDir) }))
        ports.set(`${name}:${conf.mqtt}`, broker.mqttPort)
        ports.set(`${name}:${conf.websockets}`, Number(new URL(broker.wsUrl).port))
        continue
      }
      const command = await localCommand(name)
      const env = await localEnv(name)
      if (command[0] === 'npm' && command[1] === 'run') parts.set(name, cleanup.add(new PartProcess(await npmRunEntry(command), env)))
      else runs.set(name, new CommandRun(command, env))
    }

    // The demo job: published once the relay served printer demo, printed, reported on stdout.
    const demo = runs.get('demo-print')
    expect(demo, 'demo-print ran').toBeDefined()
    const code = await demo?.exit(90_000)
    expect(code, `demo-print stderr: ${demo?.stderr}`).toBe(0)
    const ticket = await readFile(path.join(ROOT, 'examples', 'demo-ticket.fgl'))
    const lines = demo?.stdout.trim().split('\n') ?? []
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ printerId: 'demo', status: 'printed', bytes: ticket.length, printer: { acks: 1, expectedAcks: 1 } })
    expect(demo?.stderr).toContain('served by relay compose')

    // The web server: the page, and /mqtt through to Mosquitto, where it publishes server/time as its admin user.
    const web = parts.get('web')
    await web?.waitForLog('web server listening')
    const webPort = await portFor(`web:${environment(service(compose, 'web')).PORT}`)
    const page = await fetch(`http://127.0.0.1:${webPort}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<html')
    const demoEnv = environment(service(compose, 'demo-print'))
    const browser = cleanup.add(await TestClient.connect(`ws://127.0.0.1:${webPort}/mqtt`, { username: demoEnv.MQTT_USERNAME ?? '', password: demoEnv.MQTT_PASSWORD ?? '' }))
    await browser.subscribe('server/time')
    expect(Date.parse((await browser.waitFor((m) => m.topic === 'server/time', 10_000, 'server/time')).text)).not.toBeNaN()
    // The HTTP API checks the users file it mounts, and issues a browser token that logs in through /mqtt.
    const demoAuth = basicAuth(demoEnv.MQTT_USERNAME ?? '', demoEnv.MQTT_PASSWORD ?? '')
    expect((await callApi(`http://127.0.0.1:${webPort}`, 'GET', '/jobs/no-such-job', { auth: demoAuth })).status).toBe(404)
    const issued = await callApi(`http://127.0.0.1:${webPort}`, 'POST', '/tokens', { body: JSON.stringify({ printers: ['demo'], ttlSeconds: 60 }), type: 'application/json', auth: demoAuth })
    expect(issued.status).toBe(201)
    const tokenPage = cleanup.add(await TestClient.connect(`ws://127.0.0.1:${webPort}/mqtt`, { username: 'page', password: String(issued.body?.token) }))
    await tokenPage.subscribe('printers/demo/status')
    expect((await tokenPage.waitFor((m) => m.topic === 'printers/demo/status', 10_000, 'demo status')).json?.state).toBe('online')

    // The ticket at the printer, byte for byte, in its dump directory (written by the time it has stopped).
    const printer = parts.get('printer')
    expect(await printer?.kill('SIGTERM')).toBe(0)
    const dumps = volumeDirs.get(mounts(service(compose, 'printer')).find((m) => environment(service(compose, 'printer')).PRINTER_SIM_DUMP_DIR === m.target)?.source ?? '')
    expect(dumps, 'the printer dumps tickets to a volume').toBeDefined()
    expect((await readdir(dumps ?? '')).sort()).toEqual(['1.bin', '1.png', '1.txt'])
    expect((await readFile(path.join(dumps ?? '', '1.bin'))).equals(ticket)).toBe(true)
    expect(await readFile(path.join(dumps ?? '', '1.txt'), 'utf8')).toContain('PRINTWIRE')
  }, 150_000)
})
