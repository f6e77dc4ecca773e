/** Broker configuration (SPEC "Configuration"): one schema, its defaults, validated once and frozen. */
import { z } from 'zod'
import { maxPayloadBytes } from '../protocol/index.ts'
import { booleanSchema, loadConfig, portSchema, positiveIntSchema } from '../runtime/config.ts'
import { checkLoginLimits, checkTlsPair, LOGIN_LIMIT_FIELDS, pickFields } from '../runtime/configFields.ts'

export const brokerConfigSchema = z.object({
  // Declared in runtime/configFields.ts. Here: without AUTH_FILE the broker is anonymous; TLS_CERT/TLS_KEY also turn on mqtts:// on MQTTS_PORT.
  ...pickFields('PORT', 'AUTH_FILE', 'TLS_CERT', 'TLS_KEY', 'LISTEN_HOST', 'MAX_JOB_BYTES', 'TOPIC_PREFIX', 'SERVER_TIME_INTERVAL_MS', 'ALLOWED_ORIGINS', 'TOKEN_SECRET', 'LOG_FORMAT'),
  /** Here: the LevelDB of PERSISTENCE=level (sessions, queued jobs, retained messages, the job history); the job history's limits. */
  ...pickFields('DATA_DIR', 'JOB_HISTORY_DAYS', 'JOB_HISTORY_PER_PRINTER'),
  MQTT_PORT: portSchema.default(1883),
  /** MQTT over TLS, with TLS_CERT/TLS_KEY. */
  MQTTS_PORT: portSchema.default(8883),
  /** Anonymous brokers listen on loopback only unless this is true (SPEC "Access"). */
  ALLOW_ANONYMOUS: booleanSchema.default(false),
  PERSISTENCE: z.enum(['memory', 'level', 'redis']).default('level'),
  /** With PERSISTENCE=redis: sessions, queues and retained messages in Redis, and messages between broker instances through it. */
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  /**
   * How often this broker tells others sharing its store that it is alive (Aedes' heartbeat). The Last Wills of
   * clients of an instance that died without a goodbye are published about four of these after it stops beating.
   */
  HEARTBEAT_INTERVAL_MS: positiveIntSchema.pipe(z.number().min(100, 'must be at least 100')).default(60_000),
  /** Jobs that may wait at the broker for one printer's relay session (stored, not yet acknowledged); more are answered QUEUE_FULL. */
  MAX_QUEUED_JOBS: positiveIntSchema.default(10_000),
  /** Bytes of job payloads that may wait at the broker for one printer's relay session; more are answered QUEUE_FULL. */
  MAX_QUEUED_BYTES: positiveIntSchema.default(256 * 1024 * 1024),
  /** The log-in backoff (access/loginThrottle.ts), also the HTTP API's. */
  ...pickFields(...LOGIN_LIMIT_FIELDS)
}).superRefine((config, ctx) => {
  if (config.AUTH_FILE !== undefined && config.ALLOW_ANONYMOUS) {
    ctx.addIssue({ code: 'custom', path: ['ALLOW_ANONYMOUS'], message: 'cannot be true with AUTH_FILE: with users, every client must log in' })
  }
  checkLoginLimits(config, ctx)
  checkTlsPair(config, ctx)
  if (config.MAX_QUEUED_BYTES < maxPayloadBytes(config.MAX_JOB_BYTES)) {
    ctx.addIssue({ code: 'custom', path: ['MAX_QUEUED_BYTES'], message: `must be at least ${maxPayloadBytes(config.MAX_JOB_BYTES)} (a MAX_JOB_BYTES job in a base64 envelope), or such a job could never be queued` })
  }
})

export type BrokerConfig = Readonly<z.infer<typeof brokerConfigSchema>>

export function loadBrokerConfig (env: Record<string, string | undefined>): BrokerConfig {
  return loadConfig('broker', brokerConfigSchema, env)
}

/** Where the listeners bind: loopback for an anonymous broker unless opened on purpose. */
export function listenHost (config: BrokerConfig): string {
  return config.AUTH_FILE !== undefined || config.ALLOW_ANONYMOUS ? config.LISTEN_HOST : '127.0.0.1'
}

/**
 * Where plain MQTT (MQTT_PORT) binds: with TLS on, loopback only, so passwords never cross the network in
 * clear; local tools and the relay on the same host still use it.
 */
export function plainMqttHost (config: BrokerConfig): string {
  return config.TLS_CERT !== undefined ? '127.0.0.1' : listenHost(config)
}
