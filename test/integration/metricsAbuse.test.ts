/**
 * `GET /metrics` against what a careless or hostile publisher of `printers/<id>/errors` sends (any client without
 * AUTH_FILE, a relay's user with it): error codes are free text in the payload (a newer relay may send codes this
 * version does not know), so they must neither break Prometheus' text format nor make a label value each.
 * Real broker, real mqtt.js client, the scrape read by harness/metrics.ts's strict parser.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { eventually } from '../../harness/httpApi.ts'
import { scrapeMetrics, sampleValue } from '../../harness/metrics.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, startBroker } from '../../harness/parts.ts'
import { ERROR_CODES } from '../../protocol/errorCodes.ts'
import { UNKNOWN_ERROR_CODE } from '../../runtime/printwireMetrics.ts'

const cleanup = new Cleanup()
afterEach(async () => { await cleanup.closeAll() })

const MADE_UP = 40

describe('GET /metrics with made-up error codes on printers/<id>/errors', () => {
  it('keeps the text format valid and puts every code it does not know under one label', async () => {
    const broker = cleanup.add(await startBroker())
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    const error = (code: string, retryable: boolean, jobId: string): string => JSON.stringify({ jobId, printerId: 'lobby', code, message: 'made up', retryable, at: new Date().toISOString() })
    // Quotes, a backslash and newlines that would end the sample line if not escaped.
    await client.publish('printers/lobby/errors', error('BAD"}\nprintwire_fake 1\n\\', false, 'inject'))
    for (let i = 0; i < MADE_UP; i++) {
      await client.publish('printers/lobby/errors', error(`MADE_UP_${i}`, i % 2 === 0, `made-up-${i}`))
    }
    await client.publish('printers/lobby/errors', error('JOB_EXPIRED', false, 'known'))

    const scrape = await eventually(() => scrapeMetrics(broker.httpUrl), (s) => s.status === 200 &&
      sampleValue(s, 'printwire_job_results_total', { printer: 'lobby', outcome: 'JOB_EXPIRED' }) === 1)
    expect(scrape.samples.some((s) => s.name === 'printwire_fake')).toBe(false)
    const known = new Set<string>([...Object.keys(ERROR_CODES), 'printed', 'sent', UNKNOWN_ERROR_CODE])
    const outcomes = scrape.samples.filter((s) => s.name === 'printwire_job_results_total').map((s) => s.labels.outcome ?? '')
    const codes = scrape.samples.filter((s) => s.name === 'printwire_job_retryable_errors_total').map((s) => s.labels.code ?? '')
    expect([...outcomes, ...codes].filter((label) => !known.has(label))).toEqual([])
    expect(sampleValue(scrape, 'printwire_job_results_total', { printer: 'lobby', outcome: UNKNOWN_ERROR_CODE })).toBe(MADE_UP / 2 + 1)
    expect(sampleValue(scrape, 'printwire_job_retryable_errors_total', { printer: 'lobby', code: UNKNOWN_ERROR_CODE })).toBe(MADE_UP / 2)
  })
})
