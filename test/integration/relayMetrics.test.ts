/**
 * The relay's metrics on METRICS_PORT (README "Metrics"): spool depth, states, broker connection, outcomes and print
 * durations, read as Prometheus text after real jobs through a real broker, relay and simulated printer.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { scrapeMetrics, sampleValue, histogram, type Scrape } from '../../harness/metrics.ts'
import { eventually } from '../../harness/httpApi.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { loadRelayConfig } from '../../relay/config.ts'
import { Relay } from '../../relay/relay.ts'
import { silentLogger } from '../../runtime/logger.ts'

const cleanup = new Cleanup()
afterEach(async () => { await cleanup.closeAll() })

const job = (id: string): string => JSON.stringify({ id, data: `ticket ${id}<p>` })

async function venueWithMetrics (extra: Record<string, string> = {}): Promise<{ relay: Relay, client: TestClient, url: string, printer: Awaited<ReturnType<typeof startPrinter>> }> {
  const broker = cleanup.add(await startBroker())
  const printer = cleanup.add(await startPrinter())
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
  const relay = cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: printer }, await tempDir(cleanup), { METRICS_PORT: '0', ...extra })))
  await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
  return { relay, client, url: `http://127.0.0.1:${relay.metricsPort}`, printer }
}

const scrapeUntil = (url: string, done: (scrape: Scrape) => boolean): Promise<Scrape> =>
  eventually(() => scrapeMetrics(url), (scrape) => scrape.status === 200 && done(scrape))

describe('relay metrics (METRICS_PORT)', () => {
  it('shows the spool\'s depth while the printer is away, then outcomes and print durations once it prints', async () => {
    const { relay, client, url, printer } = await venueWithMetrics()
    expect(relay.metricsPort).toBeGreaterThan(0)
    let scrape = await scrapeMetrics(url)
    expect(scrape.status).toBe(200)
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(sampleValue(scrape, 'printwire_relay_broker_connected', { printer: 'lobby' })).toBe(1)
    expect(sampleValue(scrape, 'printwire_relay_printer_state', { printer: 'lobby', state: 'online' })).toBe(1)
    await printer.setState('offline')
    await client.publish('printers/lobby/jobs', job('a'))
    await client.publish('printers/lobby/jobs', job('b'))
    scrape = await scrapeUntil(url, (s) => sampleValue(s, 'printwire_relay_queued_jobs', { printer: 'lobby' }) === 2)
    expect(sampleValue(scrape, 'printwire_relay_queued_bytes', { printer: 'lobby' })).toBe(Buffer.byteLength('ticket a<p>') * 2)
    await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.code === 'PRINTER_UNREACHABLE')
    scrape = await scrapeUntil(url, (s) => sampleValue(s, 'printwire_relay_printer_state', { printer: 'lobby', state: 'unreachable' }) === 1)
    expect(sampleValue(scrape, 'printwire_relay_outcomes_total', { printer: 'lobby', outcome: 'PRINTER_UNREACHABLE' })).toBe(1)
    await printer.setState('ready')
    for (const id of ['a', 'b']) await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === id, 15_000)
    scrape = await scrapeUntil(url, (s) => sampleValue(s, 'printwire_relay_queued_jobs', { printer: 'lobby' }) === 0)
    expect(sampleValue(scrape, 'printwire_relay_outcomes_total', { printer: 'lobby', outcome: 'printed' })).toBe(2)
    const durations = histogram(scrape, 'printwire_relay_print_duration_seconds', { printer: 'lobby', status: 'printed' })
    expect(durations?.count).toBe(2)
    expect(durations?.sum).toBeGreaterThan(0)
    expect(sampleValue(scrape, 'printwire_relay_printer_state', { printer: 'lobby', state: 'online' })).toBe(1)
    // Only /metrics.
    expect((await fetch(`${url}/`)).status).toBe(404)
  })

  it('listens on loopback by default, and not at all without METRICS_PORT', async () => {
    expect(loadRelayConfig({ PRINTERS: 'lobby=127.0.0.1', METRICS_PORT: '9464' }).METRICS_HOST).toBe('127.0.0.1')
    expect(loadRelayConfig({ PRINTERS: 'lobby=127.0.0.1' }).METRICS_PORT).toBeUndefined()
    expect(() => loadRelayConfig({ PRINTERS: 'lobby=127.0.0.1', METRICS_PORT: 'many' })).toThrow(/METRICS_PORT/)
    const broker = cleanup.add(await startBroker())
    const printer = cleanup.add(await startPrinter())
    const relay = cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: printer }, await tempDir(cleanup))))
    expect(relay.metricsPort).toBe(0)
  })

  it('does not start when METRICS_PORT is taken, and says which variable to change', async () => {
    const { relay: first } = await venueWithMetrics()
    const broker = cleanup.add(await startBroker())
    const printer = cleanup.add(await startPrinter())
    const second = new Relay({ config: loadRelayConfig(relayEnv(broker.mqttUrl, { lobby: printer }, await tempDir(cleanup), { RELAY_ID: 'second', METRICS_PORT: String(first.metricsPort) })), logger: silentLogger() })
    await expect(second.start()).rejects.toThrow(/METRICS_PORT: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE.*choose another METRICS_PORT/)
  })
})
