/** relay/brokerTrouble.ts: one clear line per failure episode, naming the setting to check, never a stack trace. */
import { describe, expect, it } from 'vitest'
import { captureLog } from '../../harness/logCapture.ts'
import { BrokerTrouble, REMIND_MS, redactMqttUrl, troubleKind } from '../../relay/brokerTrouble.ts'

function socketError (code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

function connackError (code: number, message: string): Error {
  return Object.assign(new Error(message), { code })
}

function trouble (url = 'mqtt://relay:pw@broker.venue.lan:1883'): { t: BrokerTrouble, errors: () => Array<Record<string, unknown>>, advance: (ms: number) => void, log: ReturnType<typeof captureLog> } {
  const log = captureLog('debug')
  let now = 0
  const t = new BrokerTrouble({ logger: log.logger, url, username: 'relay-lobby', relayId: 'box-1', clientId: 'printwire-relay:box-1:lobby', now: () => now })
  return { t, log, errors: () => log.entries().filter((e) => e.level === 50), advance: (ms) => { now += ms } }
}

describe('BrokerTrouble', () => {
  it('names MQTT_URL for a broker it cannot reach (refused, unknown host), once while it lasts, without the password', () => {
    const { t, errors, advance, log } = trouble()
    t.failed(socketError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1883'))
    for (let i = 0; i < 20; i++) { advance(2000); t.failed(socketError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1883')) }
    expect(errors()).toHaveLength(1)
    expect(errors()[0]?.msg).toBe('cannot reach the broker at mqtt://relay:***@broker.venue.lan:1883 (connect ECONNREFUSED 127.0.0.1:1883): check MQTT_URL and that the broker runs there; retrying')
    expect(log.text()).not.toMatch(/"stack"|:pw@/)
    t.failed(socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND broker.venue.lan'))
    advance(2000)
    t.failed(socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND broker.venue.lan'))
    expect(errors()).toHaveLength(1) // the same kind: still unreachable
  })

  it('says it again as a reminder every REMIND_MS, at once for another kind, and anew after a connection', () => {
    const { t, errors, advance } = trouble()
    t.failed(socketError('ECONNREFUSED', 'refused'))
    advance(REMIND_MS)
    t.failed(socketError('ECONNREFUSED', 'refused'))
    expect(errors()).toHaveLength(2)
    t.failed(connackError(5, 'Connection refused: Not authorized'))
    expect(errors()).toHaveLength(3)
    expect(errors()[2]?.msg).toMatch(/refused this relay's log-in as "relay-lobby": check MQTT_USERNAME\/MQTT_PASSWORD/)
    t.connected()
    t.failed(connackError(4, 'Connection refused: Bad username or password'))
    expect(errors()).toHaveLength(4)
  })

  it('names RELAY_ID when the broker refuses the client id, and MQTT_URL for anything else', () => {
    const { t, errors } = trouble('ws://127.0.0.1:5050/')
    t.failed(connackError(2, 'Connection refused: Identifier rejected'))
    t.failed(new Error('Unexpected server response: 404'))
    expect(errors().map((e) => e.msg)).toEqual([
      expect.stringMatching(/another relay process with the same RELAY_ID is connected \(RELAY_ID=box-1;/),
      expect.stringMatching(/^cannot connect to the broker at ws:\/\/127\.0\.0\.1:5050\/ \(Unexpected server response: 404\): check MQTT_URL/)
    ])
  })

  it('counts a connection closed before any CONNACK, with no error said, as a failure; not one the broker accepted, nor one already said', () => {
    const { t, errors } = trouble()
    t.closed(true)
    expect(errors()).toEqual([])
    t.failed(socketError('ECONNREFUSED', 'refused'))
    t.closed(false)
    expect(errors()).toHaveLength(1)
    t.connected()
    t.closed(false)
    expect(errors()).toHaveLength(2)
    expect(errors()[1]?.msg).toMatch(/\(the connection closed before the broker accepted it\): check MQTT_URL/)
  })

  it('sorts errors by kind, and leaves a URL without a password as it is', () => {
    expect([socketError('EAI_AGAIN', ''), connackError(4, ''), connackError(2, ''), new Error('x')].map(troubleKind)).toEqual(['unreachable', 'login', 'client-id', 'other'])
    expect(redactMqttUrl('mqtts://broker.venue.lan:8883')).toBe('mqtts://broker.venue.lan:8883')
  })
})
