/** `printwire`'s configuration (cli/config.ts) and how a failure is shown (cli/failure.ts): no broker, no process. */
import { describe, expect, it } from 'vitest'
import { authFile, brokerTarget, loadCliConfig, topicPrefix } from '../../cli/config.ts'
import { PrintwireError } from '../../protocol/index.ts'
import { errorCode, failureLine } from '../../cli/failure.ts'
import { ConfigError } from '../../runtime/config.ts'

function problemsOf (env: Record<string, string>): string[] {
  try {
    loadCliConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).problems
  }
  return []
}

describe('printwire configuration', () => {
  it('has the SPEC defaults, without credentials or AUTH_FILE', () => {
    expect(loadCliConfig({})).toEqual({ MQTT_URL: 'mqtt://localhost:1883', TOPIC_PREFIX: 'printers' })
  })

  it('takes the variables as given, ignores others, counts empty ones as unset, and is frozen', () => {
    const env = { MQTT_URL: 'wss://broker.example/mqtt', MQTT_USERNAME: 'alice', MQTT_PASSWORD: 'pw', TOPIC_PREFIX: 'venue/tickets', AUTH_FILE: '/etc/printwire/auth.json', HOME: '/root' }
    expect(loadCliConfig(env)).toEqual({ MQTT_URL: 'wss://broker.example/mqtt', MQTT_USERNAME: 'alice', MQTT_PASSWORD: 'pw', TOPIC_PREFIX: 'venue/tickets', AUTH_FILE: '/etc/printwire/auth.json' })
    expect(loadCliConfig({ MQTT_URL: '', MQTT_USERNAME: '', TOPIC_PREFIX: '', AUTH_FILE: '' })).toEqual(loadCliConfig({}))
    expect(Object.isFrozen(loadCliConfig(env))).toBe(true)
  })

  it('refuses a bad MQTT_URL and TOPIC_PREFIX together, naming each', () => {
    expect(problemsOf({ MQTT_URL: 'localhost:1883', TOPIC_PREFIX: 'venue/+' })).toEqual([
      'MQTT_URL: must be an mqtt://, mqtts://, ws:// or wss:// URL',
      'TOPIC_PREFIX: must be MQTT topic levels without wildcards'
    ])
  })
})

describe('flags over variables', () => {
  const config = loadCliConfig({ MQTT_URL: 'mqtt://broker.example:1883', TOPIC_PREFIX: 'venue', MQTT_USERNAME: 'alice', MQTT_PASSWORD: 'pw', AUTH_FILE: 'users.json' })

  it('print: connects to MQTT_URL and publishes under TOPIC_PREFIX, as MQTT_USERNAME', () => {
    expect(brokerTarget({}, config)).toEqual({ url: 'mqtt://broker.example:1883', topicPrefix: 'venue', username: 'alice', password: 'pw' })
    expect(brokerTarget({}, loadCliConfig({}))).toEqual({ url: 'mqtt://localhost:1883', topicPrefix: 'printers' })
  })

  it('print: --url and --prefix override them', () => {
    expect(brokerTarget({ url: 'mqtt://127.0.0.1:1884', prefix: 'hall/a' }, config)).toMatchObject({ url: 'mqtt://127.0.0.1:1884', topicPrefix: 'hall/a' })
  })

  it('refuses a --prefix that breaks TOPIC_PREFIX\'s rule, naming the flag', () => {
    for (const bad of ['#', 'venue/+', 'a/#/b']) {
      let error: unknown
      try { topicPrefix(bad, config) } catch (e) { error = e }
      expect(error, bad).toBeInstanceOf(PrintwireError)
      expect(error, bad).toMatchObject({ code: 'INVALID_ARGUMENT' })
      expect(errorCode(error)).toBe('INVALID_ARGUMENT')
      expect((error as Error).message).toBe(`--prefix "${bad}": must be MQTT topic levels without wildcards`)
    }
  })

  it('user and mosquitto-export: --file, else AUTH_FILE, else auth.json', () => {
    expect(authFile('other.json', config)).toBe('other.json')
    expect(authFile(undefined, config)).toBe('users.json')
    expect(authFile(undefined, loadCliConfig({}))).toBe('auth.json')
  })
})

describe('a failure on stderr', () => {
  it('shows the code of every error the commands throw, then the message', () => {
    expect(failureLine(new PrintwireError('NO_RELAY', 'no relay served printer "lobby"'))).toBe('printwire: NO_RELAY: no relay served printer "lobby"')
    expect(failureLine(new PrintwireError('INVALID_ARGUMENT', '--role must be one of client, relay, admin'))).toBe('printwire: INVALID_ARGUMENT: --role must be one of client, relay, admin')
    expect(failureLine(new ConfigError('printwire', ['MQTT_URL: must be a URL']))).toBe('printwire: INVALID_CONFIG: invalid printwire configuration:\n  - MQTT_URL: must be a URL')
  })

  it('shows a code once where the message starts with it (Node\'s file errors), and none where there is none', () => {
    const missing = Object.assign(new Error('ENOENT: no such file or directory, open \'ticket.fgl\''), { code: 'ENOENT' })
    expect(failureLine(missing)).toBe('printwire: ENOENT: no such file or directory, open \'ticket.fgl\'')
    expect(failureLine(new Error('plain'))).toBe('printwire: plain')
    expect(failureLine(Object.assign(new Error('odd'), { code: 4 }))).toBe('printwire: odd')
    expect(failureLine('thrown text')).toBe('printwire: thrown text')
  })
})
