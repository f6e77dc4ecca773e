/**
 * The parts a benchmark measures, each as a real process of its own (so the load generator, the broker,
 * the relay and the printers do not share one event loop): started on free ports, stopped by `Cleanup`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { writeTestUsers, PASSWORDS } from '../../harness/accessTargets.ts'
import { startMosquitto, type MosquittoBroker } from '../../harness/mosquittoBroker.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { freePort } from '../../harness/ports.ts'
import { PartProcess } from '../../harness/processes.ts'
import { Cleanup } from '../../harness/parts.ts'

export { Cleanup, PASSWORDS }

/** Users every benchmark broker has: `ops` (admin) publishes jobs and reads results; relays log in as `ops` too. */
export const BENCH_USER = { username: 'ops', password: PASSWORDS.ops }

export async function tempDir (cleanup: Cleanup, prefix = 'printwire-bench-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  cleanup.defer(() => rm(dir, { recursive: true, force: true }))
  return dir
}

export interface BrokerUnderTest {
  kind: 'aedes' | 'mosquitto'
  mqttUrl: string
  wsUrl: string
  pid: number
  stop(): Promise<void>
}

/** The embedded broker as `npm run broker` runs it, with an AUTH_FILE (the production setting). */
export async function startAedes (cleanup: Cleanup, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<BrokerUnderTest & { process: PartProcess, env: Record<string, string> }> {
  const dir = await tempDir(cleanup)
  const authFile = path.join(dir, 'auth.json')
  await writeTestUsers(authFile)
  // Free ports chosen here (not 0), so that a restarted broker comes back on the same ones.
  const fullEnv = { AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1', MQTT_PORT: String(await freePort()), PORT: String(await freePort()), PERSISTENCE: 'memory', DATA_DIR: path.join(dir, 'data'), ...env }
  const broker = cleanup.add(new PartProcess('broker/main.ts', { ...fullEnv, LOG_LEVEL: 'info' }, nodeArgs))
  const listening = await broker.waitForLog('broker listening', 30_000)
  return {
    kind: 'aedes',
    mqttUrl: String(listening.mqtt),
    wsUrl: String(listening.websocket),
    pid: broker.child.pid ?? 0,
    process: broker,
    env: fullEnv,
    stop: () => broker.stop()
  }
}

/** Debian's Mosquitto with the repo's mosquitto.conf and the same users. */
export async function startMosquittoBroker (cleanup: Cleanup): Promise<BrokerUnderTest & { mosquitto: MosquittoBroker }> {
  const dir = await tempDir(cleanup)
  const authFile = path.join(dir, 'auth.json')
  await writeTestUsers(authFile)
  const mosquitto = cleanup.add(await startMosquitto(authFile, dir))
  return { kind: 'mosquitto', mqttUrl: mosquitto.mqttUrl, wsUrl: mosquitto.wsUrl, pid: mosquitto.pid, mosquitto, stop: () => mosquitto.stop() }
}

/** N fast simulated printers in a process of their own (bench/printerFarm.ts): their `host:port` addresses. */
export async function startPrinterFarm (cleanup: Cleanup, count: number, options: { concurrent?: boolean } = {}): Promise<string[]> {
  return (await startPrinterFarmProcess(cleanup, count, options)).addresses
}

/** As startPrinterFarm, with the farm's pid (to measure its CPU). */
export async function startPrinterFarmProcess (cleanup: Cleanup, count: number, options: { concurrent?: boolean } = {}): Promise<{ addresses: string[], pid: number }> {
  const farm = cleanup.add(new PartProcess('bench/printerFarm.ts', { PRINTER_COUNT: String(count), PRINTER_CONCURRENT: String(options.concurrent ?? false) }))
  const ready = await farm.waitForLog('printer farm ready', 30_000)
  return { addresses: ready.addresses as string[], pid: farm.child.pid ?? 0 }
}

export const printerIds = (count: number): string[] => Array.from({ length: count }, (_, i) => `p${i + 1}`)

/** `npm run relay` for the printers at `addresses` (ids p1, p2, …), with its durable spool; resolves once all are online. */
export async function startRelayProcess (cleanup: Cleanup, broker: BrokerUnderTest, addresses: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<PartProcess> {
  const ids = printerIds(addresses.length)
  const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl, BENCH_USER))
  await watcher.subscribe('printers/+/status')
  const relay = cleanup.add(new PartProcess('relay/main.ts', {
    MQTT_URL: broker.mqttUrl,
    MQTT_USERNAME: BENCH_USER.username,
    MQTT_PASSWORD: BENCH_USER.password,
    PRINTERS: addresses.map((address, i) => `${ids[i] as string}=${address}`).join(','),
    RELAY_ID: `bench-${process.pid}`,
    STATE_DIR: await tempDir(cleanup),
    LOG_LEVEL: 'warn',
    ...env
  }, nodeArgs))
  for (const id of ids) await watcher.waitFor((m) => m.topic === `printers/${id}/status` && m.json?.state === 'online', 30_000, `${id} online`)
  await watcher.stop()
  return relay
}

/** Resident memory of a process, in bytes (Linux /proc). */
export async function rssBytes (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN)
  return kb * 1024
}
