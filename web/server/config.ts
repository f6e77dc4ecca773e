/**
 * Web server configuration, for a broker other than the embedded one (Mosquitto): the page, `/config.json`
 * and `/mqtt` on PORT, `/mqtt` passed through to the broker's WebSocket listener, and `server/time` published
 * as a client. TOPIC_PREFIX and MAX_JOB_BYTES must be the broker's: the page learns them from here.
 */
import { z } from 'zod'
import { DEFAULT_MAX_JOB_BYTES, DEFAULT_TOPIC_PREFIX, TOPIC_PREFIX_PATTERN } from '../../protocol/index.ts'
import { checkTlsPair } from '../../broker/config.ts'
import { loadConfig, portSchema, positiveIntSchema } from '../../runtime/config.ts'
import { allowedOriginsSchema } from '../../runtime/originCheck.ts'

const mqttUrl = z.string().regex(/^(mqtts?|wss?):\/\/.+/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL')

export const webServerConfigSchema = z.object({
  PORT: portSchema.default(5050),
  LISTEN_HOST: z.string().min(1).default('0.0.0.0'),
  /** The broker's MQTT-over-WebSockets listener, which the page reaches through `/mqtt`. */
  BROKER_WS_URL: z.string().regex(/^wss?:\/\/.+/, 'must be a ws:// or wss:// URL').default('ws://localhost:9001'),
  /** Where the server/time publisher connects. */
  MQTT_URL: mqttUrl.default('mqtt://localhost:1883'),
  MQTT_USERNAME: z.string().min(1).optional(),
  MQTT_PASSWORD: z.string().min(1).optional(),
  TLS_CERT: z.string().min(1).optional(),
  TLS_KEY: z.string().min(1).optional(),
  /** The broker's MAX_JOB_BYTES: the page checks jobs against it (`/config.json`), `/mqtt` takes no larger frame. */
  MAX_JOB_BYTES: positiveIntSchema.default(DEFAULT_MAX_JOB_BYTES),
  /** The broker's TOPIC_PREFIX, which the page publishes and subscribes under (`/config.json`). */
  TOPIC_PREFIX: z.string().regex(TOPIC_PREFIX_PATTERN, 'must be MQTT topic levels without wildcards').default(DEFAULT_TOPIC_PREFIX),
  SERVER_TIME_INTERVAL_MS: positiveIntSchema.default(1000),
  /** Origins besides the page's own whose pages may open `/mqtt` (runtime/originCheck.ts). */
  ALLOWED_ORIGINS: allowedOriginsSchema.default([])
}).superRefine(checkTlsPair)

export type WebServerConfig = Readonly<z.infer<typeof webServerConfigSchema>>

export function loadWebServerConfig (env: Record<string, string | undefined>): WebServerConfig {
  return loadConfig('web server', webServerConfigSchema, env)
}
