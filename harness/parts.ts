/**
 * Real parts for tests, each on free ports, each closed by `stop()`: an embedded broker, a simulated
 * Boca printer, an in-process relay. Tests register what they open with `closeAll` in afterEach.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { loadBrokerConfig } from '../broker/config.ts'
import { PrintwireBroker } from '../broker/mqttBroker.ts'
import { BocaSimulator, type BocaSimulatorConfig } from '../printer-sim/bocaSimulator.ts'
import { loadRelayConfig } from '../relay/config.ts'
import type { Clock } from '../relay/clock.ts'
import { Relay } from '../relay/relay.ts'
import { silentLogger, createLogger } from '../runtime/logger.ts'

const logger = process.env.TEST_LOG_LEVEL ? createLogger({ name: 'test', level: process.env.TEST_LOG_LEVEL }) : silentLogger()

export interface Stoppable { stop(): Promise<void> }

/** Everything a test opened, closed in reverse order. */
export class Cleanup {
  private readonly items: Array<() => Promise<void> | void> = []

  add<T extends Stoppable> (part: T): T {
    this.items.push(() => part.stop())
    return part
  }

  defer (fn: () => Promise<void> | void): void {
    this.items.push(fn)
  }

  async closeAll (): Promise<void> {
    const items = this.items.splice(0).reverse()
    for (const item of items) {
      try { await item() } catch (error) { console.error('cleanup failed:', error) }
    }
  }
}

export interface StartedBroker {
  broker: PrintwireBroker
  mqttUrl: string
  wsUrl: string
  httpUrl: string
  stop(): Promise<void>
}

export async function startBroker (env: Record<string, string> = {}): Promise<StartedBroker> {
  // server/time five times a second: a relay learns the broker's time (for expiresAt) within 200 ms of connecting.
  const config = loadBrokerConfig({ PORT: '0', MQTT_PORT: '0', PERSISTENCE: 'memory', SERVER_TIME_INTERVAL_MS: '200', ...env })
  const broker = new PrintwireBroker({ config, logger: logger.child({ part: 'broker' }) })
  await broker.start()
  return {
    broker,
    mqttUrl: `mqtt://127.0.0.1:${broker.mqttPort}`,
    wsUrl: `ws://127.0.0.1:${broker.httpPort}/mqtt`,
    httpUrl: `http://127.0.0.1:${broker.httpPort}`,
    stop: () => broker.stop()
  }
}

/**
 * A loopback address of its own (127.x.y.z) for each simulated printer: when a test switches a printer
 * `offline`, the port it frees can be taken by another test's server on 127.0.0.1, but never on this
 * address, so the relay never reaches a stranger, and the printer gets its port back.
 */
function ownLoopbackAddress (): string {
  const byte = (): number => 1 + Math.floor(Math.random() * 254)
  return `127.${byte()}.${byte()}.${byte()}`
}

export async function startPrinter (config: Partial<BocaSimulatorConfig> = {}): Promise<BocaSimulator> {
  const sim = new BocaSimulator({ config: { host: ownLoopbackAddress(), port: 0, ...config }, logger: logger.child({ part: 'printer' }) })
  await sim.start()
  return sim
}

export async function tempDir (cleanup: Cleanup, prefix = 'printwire-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  cleanup.defer(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Relay settings fast enough for tests; any may be overridden. */
export function relayEnv (mqttUrl: string, printers: Record<string, BocaSimulator | string>, stateDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MQTT_URL: mqttUrl,
    PRINTERS: Object.entries(printers).map(([id, where]) => `${id}=${typeof where === 'string' ? where : where.address}`).join(','),
    RELAY_ID: 'test-relay',
    STATE_DIR: stateDir,
    STATUS_WAIT_MS: '300',
    PRINTER_TIMEOUT_MS: '2000',
    PRINTER_CONNECT_TIMEOUT_MS: '1000',
    RETRY_MIN_MS: '50',
    RETRY_MAX_MS: '400',
    MQTT_KEEPALIVE_S: '5',
    ...extra
  }
}

/** An in-process relay; `deps.clock` gives it other clocks than the system's (a skewed wall clock, a monotonic one a test advances). */
export async function startRelay (env: Record<string, string>, deps: { clock?: Clock } = {}): Promise<Relay> {
  const relay = new Relay({ config: loadRelayConfig(env), logger: logger.child({ part: 'relay' }), ...deps })
  await relay.start()
  return relay
}
