/**
 * runtime/configFile.ts: a JSON config file as an alternative to the environment, checked by the part's one
 * schema; the environment overrides the file; every problem names the file, and the variable where there is one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadRelayConfig, relayConfigSchema } from '../../relay/config.ts'
import { ConfigError } from '../../runtime/config.ts'
import { loadFromPartEnvironment, partEnvironment } from '../../runtime/configFile.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'printwire-config-file-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const RELAY_VARIABLES = Object.keys(relayConfigSchema.shape)

function file (name: string, text: string): string {
  const where = path.join(dir, name)
  writeFileSync(where, text)
  return where
}

type Env = Record<string, string | undefined>

function relayFrom (env: Env, flag?: string): ReturnType<typeof loadRelayConfig> {
  return loadFromPartEnvironment(partEnvironment('relay', env, RELAY_VARIABLES, flag), loadRelayConfig)
}

function problemsOf (run: () => unknown): string[] {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).code).toBe('INVALID_CONFIG')
    return (error as ConfigError).problems
  }
  throw new Error('no ConfigError')
}

describe('config file', () => {
  const good = file('relay.json', JSON.stringify({ MQTT_URL: 'mqtts://broker.example.com:8883', PRINTERS: 'lobby=127.0.0.1:9100', RELAY_ID: 'from-file', MAX_QUEUED_JOBS: 20, LOG_FORMAT: 'json', LOG_LEVEL: 'debug' }))

  it('gives the part its settings, numbers read as an environment variable would hold them', () => {
    const config = relayFrom({}, good)
    expect(config.MQTT_URL).toBe('mqtts://broker.example.com:8883')
    expect(config.PRINTERS).toEqual([{ id: 'lobby', host: '127.0.0.1', port: 9100 }])
    expect(config.RELAY_ID).toBe('from-file')
    expect(config.MAX_QUEUED_JOBS).toBe(20)
    expect(config.LOG_FORMAT).toBe('json')
  })

  it('is named by CONFIG_FILE when --config is not given; --config wins over CONFIG_FILE', () => {
    expect(relayFrom({ CONFIG_FILE: good }).RELAY_ID).toBe('from-file')
    const other = file('other.json', JSON.stringify({ PRINTERS: 'bar=127.0.0.1', RELAY_ID: 'other' }))
    expect(relayFrom({ CONFIG_FILE: good }, other).RELAY_ID).toBe('other')
  })

  it('a variable set in the environment overrides the file; an empty one does not', () => {
    const source = partEnvironment('relay', { RELAY_ID: 'from-env', MQTT_URL: '' }, RELAY_VARIABLES, good)
    expect(source.fromFile.has('RELAY_ID')).toBe(false)
    expect(source.env.LOG_LEVEL).toBe('debug')
    const config = loadFromPartEnvironment(source, loadRelayConfig)
    expect(config.RELAY_ID).toBe('from-env')
    expect(config.MQTT_URL).toBe('mqtts://broker.example.com:8883')
  })

  it('a bad value from the file is refused by the schema, naming the variable and the file; one from the environment names no file', () => {
    const bad = file('bad-values.json', JSON.stringify({ PRINTERS: 'lobby=127.0.0.1', RELAY_ID: 'has spaces', MAX_QUEUED_JOBS: 0 }))
    const problems = problemsOf(() => relayFrom({ MQTT_URL: 'localhost:1883' }, bad))
    expect(problems).toContain(`RELAY_ID (in ${bad}): must be 1-64 characters of A-Z a-z 0-9 _ -`)
    expect(problems).toContain(`MAX_QUEUED_JOBS (in ${bad}): must be above 0`)
    expect(problems).toContain('MQTT_URL: must be an mqtt://, mqtts://, ws:// or wss:// URL')
  })

  it('a required variable in neither is named as without a file', () => {
    const none = file('no-printers.json', JSON.stringify({ RELAY_ID: 'venue' }))
    expect(problemsOf(() => relayFrom({}, none))).toEqual(['PRINTERS: is required, e.g. lobby=192.168.1.50:9100,bar=192.168.1.51'])
  })

  it.each([
    ['a file that does not exist', () => path.join(dir, 'missing.json'), /^config file .*missing\.json \(CONFIG_FILE or --config\): cannot be read: ENOENT/],
    ['a file that is not JSON', () => file('broken.json', 'MQTT_URL=mqtt://x\n'), /^config file .*broken\.json: not valid JSON: /],
    ['a JSON array', () => file('array.json', '["MQTT_URL"]'), /^config file .*array\.json: must be a JSON object of variables/],
    ['a key the part does not read (a typo)', () => file('typo.json', '{"PRINTER": "lobby=127.0.0.1"}'), /^PRINTER \(in .*typo\.json\): not a relay setting$/],
    ['a key that is no variable name', () => file('lower.json', '{"mqttUrl": "mqtt://x"}'), /^mqttUrl \(in .*lower\.json\): not a relay setting \(names are the environment variables', e\.g\. MQTT_URL\)$/],
    ['a value that is an object', () => file('nested.json', '{"PRINTERS": {"lobby": "127.0.0.1"}}'), /^PRINTERS \(in .*nested\.json\): must be a string, a number or true\/false$/],
    ['a file that names another', () => file('chained.json', '{"CONFIG_FILE": "/etc/other.json"}'), /^CONFIG_FILE \(in .*chained\.json\): a config file cannot name another$/],
    ['a value that is null', () => file('null.json', '{"PRINTERS": null}'), /^PRINTERS \(in .*null\.json\): must be a string, a number or true\/false$/]
  ])('refuses %s, naming the file', (_name, make, expected) => {
    const where = make()
    const problems = problemsOf(() => relayFrom({ PRINTERS: 'lobby=127.0.0.1' }, where))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(expected)
  })

  it('without a file, the environment alone, as before', () => {
    expect(relayFrom({ PRINTERS: 'lobby=127.0.0.1', RELAY_ID: 'env-only' }).RELAY_ID).toBe('env-only')
    expect(problemsOf(() => relayFrom({ PRINTERS: 'lobby=127.0.0.1', RELAY_ID: 'bad id' }))).toEqual(['RELAY_ID: must be 1-64 characters of A-Z a-z 0-9 _ -'])
  })
})
