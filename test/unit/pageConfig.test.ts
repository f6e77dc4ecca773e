/**
 * `/config.json` (protocol/pageConfig.ts): what a page server serves for its settings, and how the page reads
 * it (untrusted input), and the page's job size check against the served limit (web/page/jobRequest.ts).
 */
import { describe, expect, it } from 'vitest'
import { maxPayloadBytes, pageConfigFor, readPageConfig, WEBSOCKET_PATH } from '../../protocol/index.ts'
import { checkTicket } from '../../web/page/jobRequest.ts'

const SERVED = { topicPrefix: 'venue/printers', maxJobBytes: 2048, maxPayloadBytes: maxPayloadBytes(2048), mqttPath: '/mqtt', broker: 'printwire' }

describe('page config', () => {
  it('is the broker\'s prefix and job limit, its largest payload, and the WebSocket path', () => {
    expect(WEBSOCKET_PATH).toBe('/mqtt')
    expect(pageConfigFor({ TOPIC_PREFIX: 'venue/printers', MAX_JOB_BYTES: 2048 })).toEqual(SERVED)
    expect(pageConfigFor({ TOPIC_PREFIX: 'venue/printers', MAX_JOB_BYTES: 2048 }, 'mosquitto')).toEqual({ ...SERVED, broker: 'mosquitto' })
  })

  it('serves only those settings, whatever else the config holds', () => {
    const config = { TOPIC_PREFIX: 'printers', MAX_JOB_BYTES: 10, AUTH_FILE: '/etc/printwire/auth.json', MQTT_PASSWORD: 'secret', MQTT_USERNAME: 'ops' }
    expect(Object.keys(pageConfigFor(config)).sort()).toEqual(['broker', 'maxJobBytes', 'maxPayloadBytes', 'mqttPath', 'topicPrefix'])
    expect(JSON.stringify(pageConfigFor(config))).not.toMatch(/secret|ops|auth\.json/)
  })

  it('reads a served config back, and nothing else', () => {
    expect(readPageConfig(JSON.parse(JSON.stringify(SERVED)))).toEqual(SERVED)
    expect(readPageConfig({ ...SERVED, extra: 'ignored' })).toEqual(SERVED)
    expect(readPageConfig({ ...SERVED, broker: 'mosquitto' })).toEqual({ ...SERVED, broker: 'mosquitto' })
    // A server of an earlier version says nothing of its broker: its own.
    expect(readPageConfig({ ...SERVED, broker: undefined })).toEqual(SERVED)
    const bad: unknown[] = [
      null, 'printers', [], {},
      { ...SERVED, topicPrefix: 'printers/#' },
      { ...SERVED, topicPrefix: '' },
      { ...SERVED, topicPrefix: 7 },
      { ...SERVED, maxJobBytes: 0 },
      { ...SERVED, maxJobBytes: 1.5 },
      { ...SERVED, maxJobBytes: '2048' },
      { ...SERVED, maxPayloadBytes: -1 },
      { ...SERVED, mqttPath: 'mqtt' },
      { ...SERVED, mqttPath: undefined },
      { ...SERVED, broker: 'aedes' }
    ]
    for (const body of bad) expect(readPageConfig(body), JSON.stringify(body)).toBeNull()
  })
})

describe('the page\'s job size check', () => {
  it('takes a ticket of exactly the served limit and refuses one byte more, naming the limit', () => {
    expect(checkTicket('x'.repeat(100), 100)).toEqual({ ok: true, value: 'x'.repeat(100) })
    expect(checkTicket('x'.repeat(101), 100)).toEqual({ ok: false, message: 'The ticket is 101 bytes; jobs are limited to 100 bytes.' })
  })

  it('counts UTF-8 bytes, not characters', () => {
    expect(checkTicket('é'.repeat(50), 100).ok).toBe(true)
    expect(checkTicket('é'.repeat(51), 100)).toEqual({ ok: false, message: 'The ticket is 102 bytes; jobs are limited to 100 bytes.' })
  })
})
