/** README's "Metrics" table and docs/grafana-dashboard.json name exactly the metrics the broker exports. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { readExposition } from '../../harness/metrics.ts'
import { PrintwireMetrics } from '../../runtime/printwireMetrics.ts'
import { RelayMetrics } from '../../relay/relayMetrics.ts'
import { silentLogger } from '../../runtime/logger.ts'

async function exported (): Promise<Map<string, string>> {
  // Every metric: the broker's (the embedded broker's own included) and the relay's (not started: only read).
  const metrics = new PrintwireMetrics({ connections: () => ({ relay: 0, client: 0, token: 0, admin: 0 }), brokerQueued: async () => 0 })
  const relay = new RelayMetrics({ port: 0, host: '127.0.0.1', lanes: () => [], logger: silentLogger() })
  return new Map([...readExposition((await metrics.scrape()).text).types, ...readExposition(await relay.registry.metrics()).types])
}

function readmeMetricsSection (): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('### Metrics')
  expect(start).toBeGreaterThan(-1)
  return readme.slice(start, readme.indexOf('\n## ', start))
}

describe('metrics documentation', () => {
  it('README lists every metric, with its type, and no other', async () => {
    const types = await exported()
    const rows = [...readmeMetricsSection().matchAll(/^\| `(printwire_[a-z_]+)` \| (\w+) \|/gm)].map(([, name, type]) => [name, type])
    expect(new Map(rows as Array<[string, string]>)).toEqual(types)
  })

  it('the Grafana dashboard reads only metrics that exist, and every panel has a query', async () => {
    const types = await exported()
    const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: Array<{ title: string, targets: Array<{ expr: string }> }> }
    expect(dashboard.panels.length).toBeGreaterThan(0)
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0)
      for (const { expr } of panel.targets) {
        const names = [...expr.matchAll(/printwire_[a-z_]+/g)].map(([name]) => name.replace(/_(bucket|sum|count)$/, ''))
        expect(names.length, expr).toBeGreaterThan(0)
        for (const name of names) expect(types.has(name), `${panel.title}: ${name}`).toBe(true)
      }
    }
  })
})
