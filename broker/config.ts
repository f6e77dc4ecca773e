/** Broker configuration (SPEC "Configuration"): one schema, its defaults, validated once and frozen. */
import { z } from 'zod'
import type { LoginThrottleLimits } from '../access/loginThrottle.ts'
import { DEFAULT_MAX_JOB_BYTES, DEFAULT_TOPIC_PREFIX, maxPayloadBytes, TOPIC_PREFIX_PATTERN } from '../protocol/index.ts'
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
  /**
   * How often this broker tells others sharing its store that it is alive (Aedes' heartbeat). The Last Wills of
   * clients of an instance that died without a goodbye are published about four of these after it stops beating.
   */
  HEARTBEAT_INTERVAL_MS: positiveIntSchema.pipe(z.number().min(100, 'must be at least 100')).default(60_000),
  /** Jobs that may wait at the broker for one printer's relay session (stored, not yet acknowledged); more are answered QUEUE_FULL. */
  MAX_QUEUED_JOBS: positiveIntSchema.default(10_000),
  /** Bytes of job payloads that may wait at the broker for one printer's relay session; more are answered QUEUE_FULL. */
  MAX_QUEUED_BYTES: positiveIntSchema.default(256 * 1024 * 1024),
  /** Origins besides the page's own whose pages may open `/mqtt` (runtime/originCheck.ts). */
  ALLOWED_ORIGINS: allowedOriginsSchema.default([]),
  /** Log-in backoff (access/loginThrottle.ts): wrong passwords allowed per address, per user and address, per user. */
  LOGIN_FAILURES_PER_ADDRESS: positiveIntSchema.default(30),
  LOGIN_FAILURES_PER_USER_ADDRESS: positiveIntSchema.default(5),
  LOGIN_FAILURES_PER_USER: positiveIntSchema.default(100),
  /** Over how long wrong passwords are counted, and how long an address is refused once past a limit. */
  LOGIN_FAILURE_WINDOW_MS: positiveIntSchema.default(900_000),
  LOGIN_BLOCK_MS: positiveIntSchema.default(300_000)
}).superRefine((config, ctx) => {
  if (config.AUTH_FILE !== undefined && config.ALLOW_ANONYMOUS) {
    ctx.addIssue({ code: 'custom', path: ['ALLOW_ANONYMOUS'], message: 'cannot be true with AUTH_FILE: with users, every client must log in' })
  }
  if (config.LOGIN_FAILURES_PER_USER_ADDRESS > config.LOGIN_FAILURES_PER_ADDRESS) {
    ctx.addIssue({ code: 'custom', path: ['LOGIN_FAILURES_PER_USER_ADDRESS'], message: `cannot be above LOGIN_FAILURES_PER_ADDRESS (${config.LOGIN_FAILURES_PER_ADDRESS}): an address is blocked for every user first` })
  }
  checkTlsPair(config, ctx)
  if (config.MAX_QUEUED_BYTES < maxPayloadBytes(config.MAX_JOB_BYTES)) {
    ctx.addIssue({ code: 'custom', path: ['MAX_QUEUED_BYTES'], message: `must be at least ${maxPayloadBytes(config.MAX_JOB_BYTES)} (a MAX_JOB_BYTES job in a base64 envelope), or such a job could never be queued` })
  }
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

/** The log-in backoff's limits, from the LOGIN_* settings. */
export function loginLimits (config: BrokerConfig): LoginThrottleLimits {
  return {
    failuresPerAddress: config.LOGIN_FAILURES_PER_ADDRESS,
    failuresPerUserAddress: config.LOGIN_FAILURES_PER_USER_ADDRESS,
    failuresPerUser: config.LOGIN_FAILURES_PER_USER,
    windowMs: config.LOGIN_FAILURE_WINDOW_MS,
    blockMs: config.LOGIN_BLOCK_MS
  }
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
