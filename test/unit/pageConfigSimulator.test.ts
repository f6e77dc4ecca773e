/**
 * `/config.json`'s optional `simulator` (npm start only, protocol/pageConfig.ts): read only when its printer id is a
 * printer id and its path a plain same-origin path, since the page puts file names after it.
 */
import { describe, expect, it } from 'vitest'
import { maxPayloadBytes, readPageConfig, SIMULATOR_TICKETS_PATH } from '../../protocol/index.ts'

const SERVED = { topicPrefix: 'printers', maxJobBytes: 2048, maxPayloadBytes: maxPayloadBytes(2048), mqttPath: '/mqtt', broker: 'printwire' }

describe('the page config\'s simulator', () => {
  it('is absent unless served, and read back when it is well formed', () => {
    expect(readPageConfig(SERVED)).not.toHaveProperty('simulator')
    const simulator = { printerId: 'demo', ticketsPath: SIMULATOR_TICKETS_PATH }
    expect(readPageConfig({ ...SERVED, simulator })).toEqual({ ...SERVED, simulator })
    expect(readPageConfig({ ...SERVED, simulator: { ...simulator, extra: 1 } })).toEqual({ ...SERVED, simulator })
  })

  it('makes the whole config unreadable when it is not one: no other origin, no dot segments, no query', () => {
    const bad: unknown[] = [
      null, 'demo', [],
      { printerId: 'demo' },
      { ticketsPath: '/simulator/tickets' },
      { printerId: 'de/mo', ticketsPath: '/simulator/tickets' },
      { printerId: '', ticketsPath: '/simulator/tickets' },
      { printerId: 'demo', ticketsPath: 'simulator/tickets' },
      { printerId: 'demo', ticketsPath: '//evil.example/tickets' },
      { printerId: 'demo', ticketsPath: 'https://evil.example/tickets' },
      { printerId: 'demo', ticketsPath: '/simulator/../api' },
      { printerId: 'demo', ticketsPath: '/simulator/./tickets' },
      { printerId: 'demo', ticketsPath: '/simulator/tickets/' },
      { printerId: 'demo', ticketsPath: '/simulator/tickets?x=1' },
      { printerId: 'demo', ticketsPath: '/simulator\\tickets' },
      { printerId: 'demo', ticketsPath: '/' }
    ]
    for (const simulator of bad) expect(readPageConfig({ ...SERVED, simulator }), JSON.stringify(simulator)).toBeNull()
  })
})
