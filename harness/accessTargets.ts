/**
 * The two brokers the access contract runs on, started the same way: the embedded Aedes broker with an
 * AUTH_FILE, and a real Mosquitto with the repo's mosquitto.conf and `printwire mosquitto-export`'s files,
 * its page-facing WebSockets through the web server (`npm run web`) as in docker-compose.yml.
 * The users the tests share, and their passwords.
 */
import path from 'node:path'
import { addUser } from '../cli/userCommand.ts'
import { loadWebServerConfig } from '../web/server/config.ts'
import { WebServer } from '../web/server/webServer.ts'
import { silentLogger } from '../runtime/logger.ts'
import { startMosquitto } from './mosquittoBroker.ts'
import { startBroker, type Cleanup } from './parts.ts'

export const PASSWORDS = { alice: 'alice-pw', bob: 'bob-pw', 'relay-lobby': 'relay-lobby-pw', 'relay-bar': 'relay-bar-pw', ops: 'ops-pw' }
export type UserName = keyof typeof PASSWORDS

/** alice: client of lobby; bob: client of bar; a relay user for each; ops: admin. */
export async function writeTestUsers (authFile: string): Promise<void> {
  await addUser(authFile, 'alice', { password: PASSWORDS.alice, role: 'client', printers: 'lobby' })
  await addUser(authFile, 'bob', { password: PASSWORDS.bob, role: 'client', printers: 'bar' })
  await addUser(authFile, 'relay-lobby', { password: PASSWORDS['relay-lobby'], role: 'relay', printers: 'lobby' })
  await addUser(authFile, 'relay-bar', { password: PASSWORDS['relay-bar'], role: 'relay', printers: 'bar' })
  await addUser(authFile, 'ops', { password: PASSWORDS.ops, role: 'admin', printers: '*' })
}

export interface BrokerTarget {
  name: string
  /** Starts the broker: MQTT over TCP, the page's URL, and the WebSocket URL a page uses (ws://host/mqtt). */
  start(authFile: string, dir: string, cleanup: Cleanup, env?: Record<string, string>): Promise<{ mqttUrl: string, httpUrl: string, wsUrl: string }>
}

export const BROKER_TARGETS: BrokerTarget[] = [
  {
    name: 'embedded Aedes',
    start: async (authFile, _dir, cleanup, env = {}) => {
      const broker = cleanup.add(await startBroker({ AUTH_FILE: authFile, LISTEN_HOST: '127.0.0.1', ...env }))
      return { mqttUrl: broker.mqttUrl, httpUrl: broker.httpUrl, wsUrl: broker.wsUrl }
    }
  },
  {
    name: 'Mosquitto',
    start: async (authFile, dir, cleanup, env = {}) => {
      const mosquitto = cleanup.add(await startMosquitto(authFile, dir))
      const web = cleanup.add(new WebServer({
        config: loadWebServerConfig({
          PORT: '0',
          LISTEN_HOST: '127.0.0.1',
          BROKER_WS_URL: mosquitto.wsUrl,
          MQTT_URL: mosquitto.mqttUrl,
          MQTT_USERNAME: 'ops',
          MQTT_PASSWORD: PASSWORDS.ops,
          // Its job history, beside Mosquitto's files.
          DATA_DIR: path.join(dir, 'web-data'),
          ...env
        }),
        logger: silentLogger()
      }))
      await web.start()
      return { mqttUrl: mosquitto.mqttUrl, httpUrl: `http://127.0.0.1:${web.port}`, wsUrl: `ws://127.0.0.1:${web.port}/mqtt` }
    }
  }
]

