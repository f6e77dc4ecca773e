/**
 * Relay and broker configuration (SPEC "Configuration"): defaults, PRINTERS parsing, every error at once
 * with its variable name, empty strings as unset, a deeply frozen result.
 */
import os from 'node:os'
import { describe, expect, it } from 'vitest'
import { loadBrokerConfig } from '../../broker/config.ts'
import { loadRelayConfig } from '../../relay/config.ts'
import { ConfigError } from '../../runtime/config.ts'

type Env = Record<string, string | undefined>

/** The ConfigError a load throws; fails the test when it loads. */
function configError (load: () => unknown): ConfigError {
  let loaded: unknown
  try {
    loaded = load()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw new Error(`expected a ConfigError, got ${String(error)}`)
  }
  throw new Error(`the configuration loaded but should not have: ${JSON.stringify(loaded)}`)
}

function relayProblems (env: Env): string[] {
  const error = configError(() => loadRelayConfig(env))
  expect(error.code).toBe('INVALID_CONFIG')
  return error.problems
}

function brokerProblems (env: Env): string[] {
  const error = configError(() => loadBrokerConfig(env))
  expect(error.code).toBe('INVALID_CONFIG')
  return error.problems
}

const ONE_PRINTER = { PRINTERS: 'lobby=192.168.1.50:9100' }

describe('relay configuration', () => {
  it('has the SPEC defaults', () => {
    const config = loadRelayConfig(ONE_PRINTER)
    expect(config.MQTT_URL).toBe('mqtt://localhost:1883')
    expect(config.STATE_DIR).toBe('./state')
    expect(config.MAX_JOB_BYTES).toBe(1048576)
    expect(config.TOPIC_PREFIX).toBe('printers')
    expect(config.MQTT_USERNAME).toBeUndefined()
    expect(config.MQTT_PASSWORD).toBeUndefined()
  })

  it('defaults RELAY_ID to the host name, as a valid client id suffix', () => {
    const { RELAY_ID } = loadRelayConfig(ONE_PRINTER)
    expect(RELAY_ID).toMatch(/^[A-Za-z0-9_-]{1,64}$/)
    if (/^[A-Za-z0-9_-]{1,64}$/.test(os.hostname())) expect(RELAY_ID).toBe(os.hostname())
  })

  it('parses the SPEC example of PRINTERS, with the port defaulting to 9100', () => {
    const config = loadRelayConfig({ PRINTERS: 'lobby=192.168.1.50:9100,bar=192.168.1.51' })
    expect(config.PRINTERS).toEqual([
      { id: 'lobby', host: '192.168.1.50', port: 9100 },
      { id: 'bar', host: '192.168.1.51', port: 9100 }
    ])
  })

  it('parses host names, other ports, and blanks around entries', () => {
    const config = loadRelayConfig({ PRINTERS: ' box-office=printer.venue.lan:9200 , Bar_2=localhost ,' })
    expect(config.PRINTERS).toEqual([
      { id: 'box-office', host: 'printer.venue.lan', port: 9200 },
      { id: 'Bar_2', host: 'localhost', port: 9100 }
    ])
  })

  it('parses IPv6 addresses in brackets, with and without a port', () => {
    const config = loadRelayConfig({ PRINTERS: 'a=[::1]:9101,b=[fe80::1]' })
    expect(config.PRINTERS).toEqual([
      { id: 'a', host: '::1', port: 9101 },
      { id: 'b', host: 'fe80::1', port: 9100 }
    ])
  })

  it('takes the other variables as given', () => {
    const config = loadRelayConfig({
      ...ONE_PRINTER, MQTT_URL: 'wss://broker.example:443/mqtt', RELAY_ID: 'venue-1', STATE_DIR: '/var/lib/printwire',
      MQTT_USERNAME: 'relay', MQTT_PASSWORD: 'secret', MAX_JOB_BYTES: '2048', TOPIC_PREFIX: 'venue/printers'
    })
    expect(config).toMatchObject({
      MQTT_URL: 'wss://broker.example:443/mqtt', RELAY_ID: 'venue-1', STATE_DIR: '/var/lib/printwire',
      MQTT_USERNAME: 'relay', MQTT_PASSWORD: 'secret', MAX_JOB_BYTES: 2048, TOPIC_PREFIX: 'venue/printers'
    })
  })

  it('accepts the four broker URL schemes and nothing else', () => {
    for (const url of ['mqtt://h:1883', 'mqtts://h:8883', 'ws://h:5050/mqtt', 'wss://h/mqtt']) {
      expect(loadRelayConfig({ ...ONE_PRINTER, MQTT_URL: url }).MQTT_URL).toBe(url)
    }
    for (const url of ['http://h:5050', 'localhost:1883', 'tcp://h:1883', 'mqtt://']) {
      const problems = relayProblems({ ...ONE_PRINTER, MQTT_URL: url })
      expect(problems, url).toHaveLength(1)
      expect(problems[0]).toMatch(/^MQTT_URL: /)
    }
  })

  it('requires PRINTERS, saying how to write it', () => {
    const problems = relayProblems({})
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^PRINTERS: .*required.*lobby=/)
  })

  it('refuses a PRINTERS that names no printer', () => {
    for (const value of [' ', ',', ' , ,']) {
      const problems = relayProblems({ PRINTERS: value })
      expect(problems, JSON.stringify(value)).toHaveLength(1)
      expect(problems[0]).toMatch(/^PRINTERS: .*at least one printer/)
    }
  })

  it('refuses a printer id that appears twice', () => {
    const problems = relayProblems({ PRINTERS: 'lobby=10.0.0.1,bar=10.0.0.2,lobby=10.0.0.3' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^PRINTERS: .*"lobby".*twice/)
  })

  it('refuses bad printer ids', () => {
    for (const id of ['lob by', 'a.b', 'x'.repeat(65), 'café']) {
      const problems = relayProblems({ PRINTERS: `${id}=10.0.0.1` })
      expect(problems, id).toHaveLength(1)
      expect(problems[0]).toMatch(/^PRINTERS: printer id/)
      expect(problems[0]).toContain(id)
    }
  })

  it('refuses printers separated by ";" (one printer with a host of "192.168.1.50;bar=..."), naming PRINTERS and ","', () => {
    const problems = relayProblems({ PRINTERS: 'lobby=192.168.1.50;bar=192.168.1.51' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^PRINTERS: printer "lobby": host "192\.168\.1\.50;bar=192\.168\.1\.51".*separate printers with ","/)
  })

  it('refuses hosts that are neither IPv4, [IPv6] nor RFC 1123 host names, naming PRINTERS', () => {
    for (const host of ['192.168.1.500', '1.2.3', '256.1.1.1', 'bad_host', '-lead.lan', 'trail-.lan', 'a..b', `${'x'.repeat(64)}.lan`, '[fe80::zz]', '[192.168.1.5]', 'printer/1']) {
      const problems = relayProblems({ PRINTERS: `lobby=${host}` })
      expect(problems, host).toHaveLength(1)
      expect(problems[0], host).toMatch(/^PRINTERS: printer "lobby": (host )?"/)
      expect(problems[0], host).toContain(host)
    }
  })

  it('takes IPv4 addresses, [IPv6] addresses and host names as hosts', () => {
    const config = loadRelayConfig({ PRINTERS: 'a=0.0.0.0,b=255.255.255.255:1,c=[2001:db8::1]:65535,d=boca-1.venue.lan,e=PRINTER7,f=localhost.,g=1printer' })
    expect(config.PRINTERS.map((p) => p.host)).toEqual(['0.0.0.0', '255.255.255.255', '2001:db8::1', 'boca-1.venue.lan', 'PRINTER7', 'localhost.', '1printer'])
  })

  it('refuses bad ports', () => {
    for (const port of ['0', '65536', '70000']) {
      const problems = relayProblems({ PRINTERS: `lobby=10.0.0.1:${port}` })
      expect(problems, port).toHaveLength(1)
      expect(problems[0]).toMatch(/^PRINTERS: printer "lobby": port/)
      expect(problems[0]).toContain(port)
    }
    for (const entry of ['lobby=10.0.0.1:abc', 'lobby=10.0.0.1:', 'lobby=10.0.0.1:-1']) {
      const problems = relayProblems({ PRINTERS: entry })
      expect(problems, entry).toHaveLength(1)
      expect(problems[0]).toMatch(/^PRINTERS: .*is not id=host\[:port\]/)
    }
  })

  it('refuses entries that are not id=host[:port], such as IPv6 without brackets', () => {
    for (const entry of ['lobby', '=10.0.0.1', 'lobby=', 'lobby=::1', 'lobby=fe80::1:9100']) {
      const problems = relayProblems({ PRINTERS: entry })
      expect(problems, entry).toHaveLength(1)
      expect(problems[0]).toContain(entry)
    }
  })

  it('reports every PRINTERS problem at once', () => {
    const problems = relayProblems({ PRINTERS: 'a=h,a=h2,b c=h,d=h:0,e=h:x,good=h' })
    expect(problems).toHaveLength(4)
    for (const problem of problems) expect(problem).toMatch(/^PRINTERS: /)
  })

  it('reports every problem of every variable at once, each with its name', () => {
    const error = configError(() => loadRelayConfig({
      MQTT_URL: 'http://broker', RELAY_ID: 'a b', MAX_JOB_BYTES: '0', STATUS_WAIT_MS: 'soon', TOPIC_PREFIX: 'printers/#'
    }))
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe('INVALID_CONFIG')
    const names = error.problems.map((problem) => problem.split(':')[0]).sort()
    expect(names).toEqual(['MAX_JOB_BYTES', 'MQTT_URL', 'PRINTERS', 'RELAY_ID', 'STATUS_WAIT_MS', 'TOPIC_PREFIX'])
    for (const problem of error.problems) expect(error.message).toContain(problem)
    expect(error.message).toMatch(/relay/)
  })

  it('waits TICKET_SETTLE_MS (100 ms by default, 0 for none) after each ticket\'s ACK, and refuses anything but a whole number', () => {
    expect(loadRelayConfig(ONE_PRINTER).TICKET_SETTLE_MS).toBe(100)
    expect(loadRelayConfig({ ...ONE_PRINTER, TICKET_SETTLE_MS: '0' }).TICKET_SETTLE_MS).toBe(0)
    expect(relayProblems({ ...ONE_PRINTER, TICKET_SETTLE_MS: '-1' })[0]).toMatch(/^TICKET_SETTLE_MS: /)
    expect(relayProblems({ ...ONE_PRINTER, TICKET_SETTLE_MS: 'soon' })[0]).toMatch(/^TICKET_SETTLE_MS: /)
  })

  it('limits the jobs and bytes waiting per printer: 10,000 jobs and 64 MiB by default, whole numbers of at least one', () => {
    const config = loadRelayConfig(ONE_PRINTER)
    expect(config.MAX_QUEUED_JOBS).toBe(10_000)
    expect(config.MAX_QUEUED_BYTES).toBe(64 * 1024 * 1024)
    expect(loadRelayConfig({ ...ONE_PRINTER, MAX_QUEUED_JOBS: '5', MAX_QUEUED_BYTES: '2000000' })).toMatchObject({ MAX_QUEUED_JOBS: 5, MAX_QUEUED_BYTES: 2_000_000 })
    const problems = relayProblems({ ...ONE_PRINTER, MAX_QUEUED_JOBS: '0', MAX_QUEUED_BYTES: 'lots' })
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['MAX_QUEUED_BYTES', 'MAX_QUEUED_JOBS'])
  })

  it('refuses MAX_QUEUED_BYTES below MAX_JOB_BYTES: a largest job could never wait', () => {
    const problems = relayProblems({ ...ONE_PRINTER, MAX_JOB_BYTES: '2000', MAX_QUEUED_BYTES: '1999' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^MAX_QUEUED_BYTES: .*MAX_JOB_BYTES/)
    expect(loadRelayConfig({ ...ONE_PRINTER, MAX_JOB_BYTES: '2000', MAX_QUEUED_BYTES: '2000' }).MAX_QUEUED_BYTES).toBe(2000)
  })

  it('refuses RETRY_MIN_MS above RETRY_MAX_MS', () => {
    const problems = relayProblems({ ...ONE_PRINTER, RETRY_MIN_MS: '5000', RETRY_MAX_MS: '100' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^RETRY_MIN_MS: /)
  })

  it('counts empty strings as unset', () => {
    const config = loadRelayConfig({
      ...ONE_PRINTER, MQTT_URL: '', RELAY_ID: '', STATE_DIR: '', MAX_JOB_BYTES: '', TOPIC_PREFIX: '', MQTT_USERNAME: '', MQTT_PASSWORD: ''
    })
    expect(config.MQTT_URL).toBe('mqtt://localhost:1883')
    expect(config.STATE_DIR).toBe('./state')
    expect(config.MAX_JOB_BYTES).toBe(1048576)
    expect(config.TOPIC_PREFIX).toBe('printers')
    expect(config.RELAY_ID).toMatch(/^[A-Za-z0-9_-]{1,64}$/)
    expect(config.MQTT_USERNAME).toBeUndefined()
    expect(config.MQTT_PASSWORD).toBeUndefined()
    expect(relayProblems({ PRINTERS: '' })[0]).toMatch(/^PRINTERS: .*required/)
  })

  it('ignores variables it does not know, such as the rest of the environment', () => {
    const config = loadRelayConfig({ ...ONE_PRINTER, PATH: '/usr/bin', HOME: '/root', PORT: 'not a port' })
    expect(Object.keys(config)).not.toContain('PATH')
    expect(Object.keys(config)).not.toContain('PORT')
  })

  it('is deeply frozen', () => {
    const config = loadRelayConfig({ PRINTERS: 'lobby=10.0.0.1,bar=10.0.0.2' })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.PRINTERS)).toBe(true)
    for (const printer of config.PRINTERS) expect(Object.isFrozen(printer)).toBe(true)
    expect(() => { (config as { STATE_DIR: string }).STATE_DIR = '/tmp' }).toThrow(TypeError)
    expect(() => { (config.PRINTERS as Array<{ id: string, host: string, port: number }>).push({ id: 'x', host: 'h', port: 1 }) }).toThrow(TypeError)
    expect(() => { (config.PRINTERS[0] as { port: number }).port = 1 }).toThrow(TypeError)
    expect(config.PRINTERS[0]?.port).toBe(9100)
  })

  it('gives each load its own config', () => {
    const a = loadRelayConfig({ PRINTERS: 'lobby=10.0.0.1' })
    const b = loadRelayConfig({ PRINTERS: 'lobby=10.0.0.2' })
    expect(a.PRINTERS[0]?.host).toBe('10.0.0.1')
    expect(b.PRINTERS[0]?.host).toBe('10.0.0.2')
  })
})

describe('broker configuration', () => {
  it('has the SPEC defaults', () => {
    const config = loadBrokerConfig({})
    expect(config.PORT).toBe(5050)
    expect(config.MQTT_PORT).toBe(1883)
    expect(config.PERSISTENCE).toBe('level')
    expect(config.DATA_DIR).toBe('./data')
    expect(config.MAX_JOB_BYTES).toBe(1048576)
    expect(config.TOPIC_PREFIX).toBe('printers')
    expect(config.ALLOW_ANONYMOUS).toBe(false)
  })

  it('reads ports and sizes as numbers; 0 means any free port', () => {
    const config = loadBrokerConfig({ PORT: '8080', MQTT_PORT: '0', MAX_JOB_BYTES: '2097152', PERSISTENCE: 'memory', DATA_DIR: '/srv/data' })
    expect(config).toMatchObject({ PORT: 8080, MQTT_PORT: 0, MAX_JOB_BYTES: 2097152, PERSISTENCE: 'memory', DATA_DIR: '/srv/data' })
  })

  it('reads booleans as true/false, 1/0, yes/no', () => {
    for (const yes of ['true', '1', 'yes']) expect(loadBrokerConfig({ ALLOW_ANONYMOUS: yes }).ALLOW_ANONYMOUS, yes).toBe(true)
    for (const no of ['false', '0', 'no']) expect(loadBrokerConfig({ ALLOW_ANONYMOUS: no }).ALLOW_ANONYMOUS, no).toBe(false)
  })

  it('refuses ports and sizes that are not plain whole numbers in range', () => {
    for (const value of ['abc', '-1', '65536', '1.5', '0x50', '1e3', ' ', '80 80']) {
      const problems = brokerProblems({ PORT: value })
      expect(problems, JSON.stringify(value)).toHaveLength(1)
      expect(problems[0]).toMatch(/^PORT: /)
    }
    for (const value of ['0', '-5', '1.5', 'big']) {
      const problems = brokerProblems({ MAX_JOB_BYTES: value })
      expect(problems, value).toHaveLength(1)
      expect(problems[0]).toMatch(/^MAX_JOB_BYTES: /)
    }
  })

  it('reads the hardening settings: heartbeat and per-printer queue limits, refusing values that cannot work', () => {
    expect(loadBrokerConfig({})).toMatchObject({ HEARTBEAT_INTERVAL_MS: 60_000, MAX_QUEUED_JOBS: 10_000, MAX_QUEUED_BYTES: 256 * 1024 * 1024 })
    expect(loadBrokerConfig({ HEARTBEAT_INTERVAL_MS: '250', MAX_QUEUED_JOBS: '3' })).toMatchObject({ HEARTBEAT_INTERVAL_MS: 250, MAX_QUEUED_JOBS: 3 })
    expect(brokerProblems({ HEARTBEAT_INTERVAL_MS: '50' })[0]).toMatch(/^HEARTBEAT_INTERVAL_MS: .*at least 100/)
    expect(brokerProblems({ MAX_QUEUED_JOBS: '0' })[0]).toMatch(/^MAX_QUEUED_JOBS: /)
    expect(brokerProblems({ MAX_QUEUED_BYTES: '1000' })[0]).toMatch(/^MAX_QUEUED_BYTES: .*MAX_JOB_BYTES/)
  })

  it('reports every problem at once, each with its variable name', () => {
    const error = configError(() => loadBrokerConfig({
      PORT: 'abc', MQTT_PORT: '70000', PERSISTENCE: 'disk', ALLOW_ANONYMOUS: 'maybe', MAX_JOB_BYTES: '-1', TOPIC_PREFIX: 'a/+'
    }))
    expect(error.code).toBe('INVALID_CONFIG')
    const names = error.problems.map((problem) => problem.split(':')[0]).sort()
    expect(names).toEqual(['ALLOW_ANONYMOUS', 'MAX_JOB_BYTES', 'MQTT_PORT', 'PERSISTENCE', 'PORT', 'TOPIC_PREFIX'])
    for (const problem of error.problems) expect(error.message).toContain(problem)
  })

  it('counts empty strings as unset', () => {
    const config = loadBrokerConfig({ PORT: '', MQTT_PORT: '', PERSISTENCE: '', DATA_DIR: '', MAX_JOB_BYTES: '', ALLOW_ANONYMOUS: '', TOPIC_PREFIX: '' })
    expect(config).toMatchObject({ PORT: 5050, MQTT_PORT: 1883, PERSISTENCE: 'level', DATA_DIR: './data', MAX_JOB_BYTES: 1048576, ALLOW_ANONYMOUS: false, TOPIC_PREFIX: 'printers' })
  })

  it('is frozen', () => {
    const config = loadBrokerConfig({})
    expect(Object.isFrozen(config)).toBe(true)
    expect(() => { (config as { PORT: number }).PORT = 1 }).toThrow(TypeError)
    expect(config.PORT).toBe(5050)
  })
})
