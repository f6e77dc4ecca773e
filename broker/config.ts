/** Broker configuration (SPEC "Configuration"): one schema, its defaults, validated once and frozen. */
import { z } from 'zod'
import { DEFAULT_MAX_JOB_BYTES, DEFAULT_TOPIC_PREFIX, TOPIC_PREFIX_PATTERN } from '../protocol/index.ts'
import { booleanSchema, loadConfig, portSchema, positiveIntSchema } from '../runtime/config.ts'
import { allowedOriginsSchema } from '../runtime/originCheck.ts'

export const brokerConfigSchema = z.object({
  PORT: portSchema.default(5050),
  MQTT_PORT: portSchema.default(1883),
  /** Users, roles and printers (SPEC "Access"); without it the broker is anonymous. */
  AUTH_FILE: z.string().min(1).optional(),
  /** PEM certificate chain and key: turn on mqtts:// on MQTTS_PORT and HTTPS + wss:// on PORT. */
  TLS_CERT: z.string().min(1).optional(),
  TLS_KEY: z.string().min(1).optional(),
  MQTTS_PORT: portSchema.default(8883),
  /** Anonymous brokers listen on loopback only unless this is true (SPEC "Access"). */
  ALLOW_ANONYMOUS: booleanSchema.default(false),
  /** Address to listen on when the broker may be reached from the network. */
  LISTEN_HOST: z.string().min(1).default('0.0.0.0'),
  PERSISTENCE: z.enum(['memory', 'level', 'redis']).default('level'),
  DATA_DIR: z.string().min(1).default('./data'),
  /** With PERSISTENCE=redis: sessions, queues and retained messages in Redis, and messages between broker instances through it. */
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  MAX_JOB_BYTES: positiveIntSchema.default(DEFAULT_MAX_JOB_BYTES),
  TOPIC_PREFIX: z.string().regex(TOPIC_PREFIX_PATTERN, 'must be MQTT topic levels without wildcards').default(DEFAULT_TOPIC_PREFIX),
  SERVER_TIME_INTERVAL_MS: positiveIntSchema.default(1000),
  /** Origins besides the page's own whose pages may open `/mqtt` (runtime/originCheck.ts). */
  ALLOWED_ORIGINS: allowedOriginsSchema.default([])
}).superRefine((config, ctx) => {
  if (config.AUTH_FILE !== undefined && config.ALLOW_ANONYMOUS) {
    ctx.addIssue({ code: 'custom', path: ['ALLOW_ANONYMOUS'], message: 'cannot be true with AUTH_FILE: with users, every client must log in' })
  }
  checkTlsPair(config, ctx)
})

/** TLS_CERT and TLS_KEY come together. */
export function checkTlsPair (config: { TLS_CERT?: string | undefined, TLS_KEY?: string | undefined }, ctx: z.RefinementCtx): void {
  if ((config.TLS_CERT === undefined) !== (config.TLS_KEY === undefined)) {
    const missing = config.TLS_CERT === undefined ? 'TLS_CERT' : 'TLS_KEY'
    ctx.addIssue({ code: 'custom', path: [missing], message: 'TLS_CERT and TLS_KEY must be set together' })
  }
}

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
