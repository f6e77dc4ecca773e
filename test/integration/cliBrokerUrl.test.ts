/**
 * `printwire print --url` with a URL that is not a broker's (issue 14): an http:// URL is refused before anything
 * connects, naming --url and the schemes, where mqtt.js reported "Invalid header flag bits"; a ws:// URL without
 * the broker's WebSocket path says where MQTT is taken (/mqtt). Against a real embedded broker.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { CliRun } from '../../harness/cliRun.ts'
import { Cleanup, startBroker } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const SCHEMES = 'must be mqtt://, mqtts://, ws:// or wss://'

describe('printwire print --url that is not a broker URL', () => {
  it('refuses http:// and https:// at once, naming --url and the schemes, and exits 1', async () => {
    const broker = cleanup.add(await startBroker())
    for (const url of [broker.httpUrl, broker.httpUrl.replace('http:', 'https:')]) {
      const run = await new CliRun(cleanup, ['print', '--printer', 'lobby', '--url', url, '--timeout', '3000'], Buffer.from('x<p>')).exit()
      expect(run.code, url).toBe(1)
      expect(run.stderr, url).toContain(`INVALID_ARGUMENT: --url "${url}": the broker URL ${SCHEMES}`)
      expect(run.stderr, url).toContain('/mqtt')
      expect(run.stderr, url).not.toContain('Invalid header flag bits')
      expect(run.stdout, url).toBe('')
    }
  })

  it('says that the broker takes MQTT over WebSockets at /mqtt when a ws:// URL has no path', async () => {
    const broker = cleanup.add(await startBroker())
    const url = broker.httpUrl.replace('http:', 'ws:')
    const run = await new CliRun(cleanup, ['print', '--printer', 'lobby', '--url', url, '--timeout', '3000'], Buffer.from('x<p>')).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`cannot connect to the broker at ${url}`)
    expect(run.stderr).toContain(`takes it at /mqtt (${url}/mqtt)`)
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })
})
