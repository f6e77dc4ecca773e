/**
 * Web server configuration, for a broker other than the embedded one (Mosquitto): the page, `/config.json`
 * and `/mqtt` on PORT, `/mqtt` passed through to the broker's WebSocket listener, and `server/time` published
 * as a client. TOPIC_PREFIX and MAX_JOB_BYTES must be the broker's: the page learns them from here.
 */
import { z } from 'zod'
import { loadConfig } from '../../runtime/config.ts'
import { checkLoginLimits, checkTlsPair, LOGIN_LIMIT_FIELDS, pickFields } from '../../runtime/configFields.ts'

export const webServerConfigSchema = z.object({
  ...pickFields('PORT', 'LISTEN_HOST', 'TLS_CERT', 'TLS_KEY', 'SERVER_TIME_INTERVAL_MS', 'ALLOWED_ORIGINS'),
  /** The broker's MQTT-over-WebSockets listener, which the page reaches through `/mqtt`. */
  BROKER_WS_URL: z.string().regex(/^wss?:\/\/.+/, 'must be a ws:// or wss:// URL').default('ws://localhost:9001'),
  /** Where the server/time publisher connects, and as whom (an admin: it writes `server/time`). */
  ...pickFields('MQTT_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD'),
  /**
   * The broker's MAX_JOB_BYTES and TOPIC_PREFIX: the page checks jobs against the one and publishes under the
   * other (`/config.json`); `/mqtt` takes no larger frame.
   */
  ...pickFields('MAX_JOB_BYTES', 'TOPIC_PREFIX'),
  /** The job history, recorded from what the MQTT_URL client reads, in a LevelDB under DATA_DIR (its user unknown on this broker). */
  ...pickFields('DATA_DIR', 'JOB_HISTORY_DAYS', 'JOB_HISTORY_PER_PRINTER'),
  /**
   * The HTTP API (`/api`): the users of the broker's AUTH_FILE (the file `mosquitto-export` was run on) log in
   * with HTTP Basic, through the same log-in backoff as the broker's; the API then acts over MQTT_URL as them.
   */
  ...pickFields('AUTH_FILE', ...LOGIN_LIMIT_FIELDS),
  /**
   * Browser tokens (SPEC "Browser tokens"), with AUTH_FILE: issued by `POST /api/tokens` and checked by this server
   * (Mosquitto cannot), signed with TOKEN_SECRET or a secret made once in DATA_DIR.
   */
  ...pickFields('TOKEN_SECRET', 'LOG_FORMAT')
}).superRefine((config, ctx) => {
  checkTlsPair(config, ctx)
  checkLoginLimits(config, ctx)
})

export type WebServerConfig = Readonly<z.infer<typeof webServerConfigSchema>>

export function loadWebServerConfig (env: Record<string, string | undefined>): WebServerConfig {
  return loadConfig('web server', webServerConfigSchema, env)
}
