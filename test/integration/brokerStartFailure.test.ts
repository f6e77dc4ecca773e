/**
 * A broker that fails part-way through its start (its PORT is taken) stops what it had opened: the LevelDB
 * store under DATA_DIR is closed (another broker can open it), the MQTT port it had bound is free again.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadBrokerConfig } from '../../broker/config.ts'
import { PrintwireBroker } from '../../broker/mqttBroker.ts'
import { silentLogger } from '../../runtime/logger.ts'
import { Cleanup } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

function listenOn (port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

describe('a broker that cannot start', () => {
  it('closes its store and its MQTT listener, so that a broker on the same DATA_DIR and ports starts', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'printwire-start-failure-'))
    cleanup.defer(() => rm(dataDir, { recursive: true, force: true }))
    const [httpPort, mqttPort] = [await freePort(), await freePort()]
    const taken = await listenOn(httpPort)
    const env = { PORT: String(httpPort), MQTT_PORT: String(mqttPort), PERSISTENCE: 'level', DATA_DIR: dataDir }
    const failing = new PrintwireBroker({ config: loadBrokerConfig(env), logger: silentLogger() })
    await expect(failing.start()).rejects.toMatchObject({ code: 'PORT_IN_USE', cause: { code: 'EADDRINUSE' } })
    await new Promise<void>((resolve) => taken.close(() => resolve()))

    const broker = cleanup.add(new PrintwireBroker({ config: loadBrokerConfig(env), logger: silentLogger() }))
    await broker.start()
    expect(broker.mqttPort).toBe(mqttPort)
    expect(broker.httpPort).toBe(httpPort)
  })
})
