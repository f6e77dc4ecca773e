/**
 * runtime/configFields.ts: a variable read by several parts is declared once, so it has the same rule,
 * message and default in every part's schema.
 */
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { brokerConfigSchema } from '../../broker/config.ts'
import { cliConfigSchema } from '../../cli/config.ts'
import { printerSimEnvSchema } from '../../printer-sim/config.ts'
import { relayConfigSchema } from '../../relay/config.ts'
import { webServerConfigSchema } from '../../web/server/config.ts'
import { ConfigError, loadConfig } from '../../runtime/config.ts'
import { configFields, LOGIN_LIMIT_FIELDS, pickFields, type ConfigFieldName } from '../../runtime/configFields.ts'

// webserver/config.ts joins this list once it takes its fields from runtime/configFields.ts.
const PARTS: Record<string, { schema: z.ZodObject, env: Record<string, string>, shared: ConfigFieldName[] }> = {
  broker: {
    schema: brokerConfigSchema,
    env: {},
    shared: ['PORT', 'AUTH_FILE', 'TLS_CERT', 'TLS_KEY', 'LISTEN_HOST', 'MAX_JOB_BYTES', 'TOPIC_PREFIX', 'SERVER_TIME_INTERVAL_MS', 'ALLOWED_ORIGINS', 'TOKEN_SECRET', 'DATA_DIR', 'JOB_HISTORY_DAYS', 'JOB_HISTORY_PER_PRINTER', 'LOG_FORMAT', ...LOGIN_LIMIT_FIELDS]
  },
  relay: {
    schema: relayConfigSchema,
    env: { PRINTERS: 'lobby=127.0.0.1' },
    shared: ['MQTT_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD', 'MQTT_CA_FILE', 'MAX_JOB_BYTES', 'TOPIC_PREFIX', 'LOG_FORMAT']
  },
  cli: {
    schema: cliConfigSchema,
    env: {},
    shared: ['MQTT_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD', 'TOPIC_PREFIX', 'AUTH_FILE', 'LOG_FORMAT']
  },
  web: {
    schema: webServerConfigSchema,
    env: {},
    shared: ['PORT', 'LISTEN_HOST', 'TLS_CERT', 'TLS_KEY', 'SERVER_TIME_INTERVAL_MS', 'ALLOWED_ORIGINS', 'MQTT_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD', 'MAX_JOB_BYTES', 'TOPIC_PREFIX', 'DATA_DIR', 'JOB_HISTORY_DAYS', 'JOB_HISTORY_PER_PRINTER', 'AUTH_FILE', 'TOKEN_SECRET', 'LOG_FORMAT', ...LOGIN_LIMIT_FIELDS]
  },
  'printer-sim': { schema: printerSimEnvSchema, env: {}, shared: ['LOG_FORMAT'] }
}

const SHARED_NAMES = Object.keys(configFields) as ConfigFieldName[]

/** A value each shared field refuses (an empty one counts as unset, so fields that only need text have none). */
const BAD_VALUES: Partial<Record<ConfigFieldName, string>> = {
  TOPIC_PREFIX: 'venue/#',
  MAX_JOB_BYTES: '1e3',
  MQTT_URL: 'localhost:1883',
  PORT: '65536',
  SERVER_TIME_INTERVAL_MS: '0',
  ALLOWED_ORIGINS: 'ftp://tickets.example.com',
  TOKEN_SECRET: 'secret',
  JOB_HISTORY_DAYS: '0',
  JOB_HISTORY_PER_PRINTER: '-1',
  LOG_FORMAT: 'yaml'
}

function problemsOf (part: string, env: Record<string, string>): string[] {
  const { schema, env: base } = PARTS[part] as (typeof PARTS)[string]
  try {
    loadConfig(part, schema, { ...base, ...env })
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

describe('config fields declared once', () => {
  it.each(Object.keys(PARTS))('%s: every variable of a shared name is the shared definition itself', (part) => {
    const { schema, shared } = PARTS[part] as (typeof PARTS)[string]
    const sharedHere = Object.keys(schema.shape).filter((name) => (SHARED_NAMES as string[]).includes(name)).sort()
    expect(sharedHere).toEqual([...shared].sort())
    for (const name of shared) expect(schema.shape[name], `${part} ${name}`).toBe(configFields[name])
  })

  it('gives every shared variable the same default in every part that reads it', () => {
    const defaults = Object.fromEntries(Object.keys(PARTS).map((part) => {
      const { schema, env } = PARTS[part] as (typeof PARTS)[string]
      return [part, loadConfig(part, schema, env) as Record<string, unknown>]
    }))
    for (const name of SHARED_NAMES) {
      const readers = Object.keys(PARTS).filter((part) => PARTS[part]?.shared.includes(name))
      for (const part of readers) expect(defaults[part]?.[name], `${part} ${name}`).toEqual(configFields[name].parse(undefined))
    }
    // The ones SPEC gives a default.
    expect(configFields.TOPIC_PREFIX.parse(undefined)).toBe('printers')
    expect(configFields.MAX_JOB_BYTES.parse(undefined)).toBe(1_048_576)
    expect(configFields.MQTT_URL.parse(undefined)).toBe('mqtt://localhost:1883')
    expect(configFields.PORT.parse(undefined)).toBe(5050)
    expect(configFields.DATA_DIR.parse(undefined)).toBe('./data')
    expect(configFields.JOB_HISTORY_DAYS.parse(undefined)).toBe(7)
  })

  it.each(Object.entries(BAD_VALUES))('refuses %s=%s with the same message, naming it, in every part that reads it', (name, bad) => {
    const readers = Object.keys(PARTS).filter((part) => PARTS[part]?.shared.includes(name as ConfigFieldName))
    expect(readers.length, `a part reads ${name}`).toBeGreaterThan(0)
    const messages = readers.map((part) => problemsOf(part, { [name]: bad }).filter((problem) => problem.startsWith(`${name}:`)))
    expect(messages[0]).toHaveLength(1)
    for (const [i, part] of readers.entries()) expect(messages[i], part).toEqual(messages[0])
  })

  it('refuses TLS_CERT without TLS_KEY and the other way round', () => {
    expect(problemsOf('broker', { TLS_CERT: 'cert.pem' })).toEqual(['TLS_KEY: TLS_CERT and TLS_KEY must be set together'])
    expect(problemsOf('broker', { TLS_KEY: 'key.pem' })).toEqual(['TLS_CERT: TLS_CERT and TLS_KEY must be set together'])
    expect(problemsOf('broker', { TLS_CERT: 'cert.pem', TLS_KEY: 'key.pem' })).toEqual([])
  })

  it('picks exactly the named fields', () => {
    const picked = pickFields('PORT', 'TOPIC_PREFIX')
    expect(Object.keys(picked).sort()).toEqual(['PORT', 'TOPIC_PREFIX'])
    expect(picked.PORT).toBe(configFields.PORT)
  })
})
