/**
 * `server/time` as an MQTT client (SPEC "Topics"): on Mosquitto the broker has no clock of its own, so the
 * web server publishes the time (QoS 0, not retained) about once a second. It needs a user allowed to
 * write `server/time`: an admin.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { SERVER_TIME_TOPIC } from '../../protocol/index.ts'
import type { Logger } from '../../runtime/logger.ts'

export interface TimePublisherDeps {
  config: { MQTT_URL: string, MQTT_USERNAME?: string | undefined, MQTT_PASSWORD?: string | undefined, SERVER_TIME_INTERVAL_MS: number }
  logger: Logger
}

export class TimePublisher {
  private readonly deps: TimePublisherDeps
  private client: MqttClient | undefined
  private timer: NodeJS.Timeout | undefined

  constructor (deps: TimePublisherDeps) {
    this.deps = deps
  }

  async start (): Promise<void> {
    const { config, logger } = this.deps
    const client = mqtt.connect(config.MQTT_URL, {
      protocolVersion: 4,
      clientId: `printwire-clock-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 2000,
      ...(config.MQTT_USERNAME === undefined ? {} : { username: config.MQTT_USERNAME }),
      ...(config.MQTT_PASSWORD === undefined ? {} : { password: config.MQTT_PASSWORD })
    })
    this.client = client
    client.on('connect', () => logger.info({ url: config.MQTT_URL }, 'server/time publisher connected'))
    client.on('error', (error) => logger.warn({ err: error, url: config.MQTT_URL }, 'server/time publisher: broker refused or unreachable; retrying'))
    this.timer = setInterval(() => {
      if (client.connected) client.publish(SERVER_TIME_TOPIC, new Date().toISOString(), { qos: 0, retain: false })
    }, config.SERVER_TIME_INTERVAL_MS)
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.client?.endAsync()
  }
}
