/**
 * The configuration variables more than one part reads (SPEC "Configuration"), each declared once: its zod
 * schema, its default and what it means. A part's schema takes the ones it reads with `pickFields` and spreads
 * them into its `z.object`, so a name means the same thing, with the same rule and default, in every part.
 * test/unit/configFields.test.ts checks that every part uses these objects.
 */
import { z } from 'zod'
import { DEFAULT_MAX_JOB_BYTES, DEFAULT_TOPIC_PREFIX, TOPIC_PREFIX_PATTERN } from '../protocol/index.ts'
import { portSchema, positiveIntSchema } from './config.ts'
import { allowedOriginsSchema } from './originCheck.ts'
import { decodeSecret, SECRET_TEXT_RULE } from './secretText.ts'

/** A broker URL of one of the four schemes MQTT clients here speak. */
const mqttUrlSchema = z.string().regex(/^(mqtts?|wss?):\/\/.+/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL')

/** A value that must be given to mean anything (an empty variable counts as unset: runtime/config.ts). */
const optionalText = z.string().min(1).optional()

export const configFields = {
  /** First topic level(s) of every printer topic: `<TOPIC_PREFIX>/<id>/jobs`, ... */
  TOPIC_PREFIX: z.string().regex(TOPIC_PREFIX_PATTERN, 'must be MQTT topic levels without wildcards').default(DEFAULT_TOPIC_PREFIX),
  /** Largest job, in bytes of decoded data. */
  MAX_JOB_BYTES: positiveIntSchema.default(DEFAULT_MAX_JOB_BYTES),
  /** The broker a client part connects to. */
  MQTT_URL: mqttUrlSchema.default('mqtt://localhost:1883'),
  /** Credentials of a client part at the broker; without them it connects anonymously. */
  MQTT_USERNAME: optionalText,
  MQTT_PASSWORD: optionalText,
  /** A PEM CA certificate to trust for mqtts:// and wss:// besides the system's (a venue's own CA, a self-signed broker). */
  MQTT_CA_FILE: optionalText,
  /** PEM certificate chain and key (both or neither: `checkTlsPair`): HTTPS and wss:// on PORT (the broker: mqtts:// too). */
  TLS_CERT: optionalText,
  TLS_KEY: optionalText,
  /** HTTP port: the page at `/`, MQTT over WebSockets at `/mqtt`. 0: any free port. */
  PORT: portSchema.default(5050),
  /** Address to listen on once open to the network. */
  LISTEN_HOST: z.string().min(1).default('0.0.0.0'),
  /** How often `server/time` is published. */
  SERVER_TIME_INTERVAL_MS: positiveIntSchema.default(1000),
  /** Origins besides the page's own whose pages may open `/mqtt` (runtime/originCheck.ts). */
  ALLOWED_ORIGINS: allowedOriginsSchema.default([]),
  /** Users, roles and printers (SPEC "Access"): the broker's users; the file `printwire user` and `mosquitto-export` work on. */
  AUTH_FILE: optionalText,
  /**
   * Signs browser tokens (SPEC "Browser tokens"; access/tokens.ts): at least 32 random bytes, hex or base64.
   * Unset, the broker makes one once and keeps it with its data (broker/tokenSecret.ts). Changing it revokes
   * every token. Never logged.
   */
  TOKEN_SECRET: z.string().refine((text) => decodeSecret(text) !== undefined, SECRET_TEXT_RULE).optional(),
  /** Where a server part keeps what must survive a restart: the broker its LevelDB (PERSISTENCE=level); the web server its job history. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Days a job stays in the job history, from when it was first seen (SPEC "HTTP API"). */
  JOB_HISTORY_DAYS: positiveIntSchema.pipe(z.number().max(3650, 'must be at most 3650 (ten years)')).default(7),
  /** Jobs kept in the job history per printer; beyond it the oldest are dropped. */
  JOB_HISTORY_PER_PRINTER: positiveIntSchema.default(10_000),
  /** Log-in backoff (access/loginThrottle.ts): wrong passwords allowed per address, per user and address, per user. */
  LOGIN_FAILURES_PER_ADDRESS: positiveIntSchema.default(30),
  LOGIN_FAILURES_PER_USER_ADDRESS: positiveIntSchema.default(5),
  LOGIN_FAILURES_PER_USER: positiveIntSchema.default(100),
  /** Over how long wrong passwords are counted, and how long an address is refused once past a limit. */
  LOGIN_FAILURE_WINDOW_MS: positiveIntSchema.default(900_000),
  LOGIN_BLOCK_MS: positiveIntSchema.default(300_000),
  /**
   * How a part writes its log (runtime/logger.ts): `pretty`, one readable line with the local time, or `json`,
   * JSON lines. Unset: pretty on a terminal (and in `npm start`), JSON otherwise. (Spelled out here rather than
   * imported from the logger, so that reading config does not load pino: the command line starts faster.)
   */
  LOG_FORMAT: z.enum(['pretty', 'json'], { error: 'must be pretty or json' }).optional()
} as const

export type ConfigFieldName = keyof typeof configFields

/** The log-in backoff's settings, read by every part that checks passwords (the broker; the web server's HTTP API). */
export const LOGIN_LIMIT_FIELDS = ['LOGIN_FAILURES_PER_ADDRESS', 'LOGIN_FAILURES_PER_USER_ADDRESS', 'LOGIN_FAILURES_PER_USER', 'LOGIN_FAILURE_WINDOW_MS', 'LOGIN_BLOCK_MS'] as const

/** An address is blocked for every user before it is blocked for one: for a part's `.superRefine`. */
export function checkLoginLimits (config: { LOGIN_FAILURES_PER_ADDRESS: number, LOGIN_FAILURES_PER_USER_ADDRESS: number }, ctx: z.RefinementCtx): void {
  if (config.LOGIN_FAILURES_PER_USER_ADDRESS > config.LOGIN_FAILURES_PER_ADDRESS) {
    ctx.addIssue({ code: 'custom', path: ['LOGIN_FAILURES_PER_USER_ADDRESS'], message: `cannot be above LOGIN_FAILURES_PER_ADDRESS (${config.LOGIN_FAILURES_PER_ADDRESS}): an address is blocked for every user first` })
  }
}

/** The shared fields named, to spread into a part's `z.object({ ...pickFields('PORT', ...), ... })`. */
export function pickFields<const K extends ConfigFieldName> (...names: K[]): Pick<typeof configFields, K> {
  const picked: Partial<Pick<typeof configFields, K>> = {}
  for (const name of names) picked[name] = configFields[name]
  return picked as Pick<typeof configFields, K>
}

/** TLS_CERT and TLS_KEY come together: for a part's `.superRefine`. */
export function checkTlsPair (config: { TLS_CERT?: string | undefined, TLS_KEY?: string | undefined }, ctx: z.RefinementCtx): void {
  if ((config.TLS_CERT === undefined) !== (config.TLS_KEY === undefined)) {
    const missing = config.TLS_CERT === undefined ? 'TLS_CERT' : 'TLS_KEY'
    ctx.addIssue({ code: 'custom', path: [missing], message: 'TLS_CERT and TLS_KEY must be set together' })
  }
}
