/**
 * Review of issue 11 (one PrintwireError family): `printwire print` shows a job's final error as the relay sent it,
 * `printwire: CODE: message`, also for a code this version does not know (a newer relay's: readJobOutcome keeps
 * unknown codes). At 7a6daea it did; a PrintwireError built from an unknown code must not fail on the lookup of
 * its `retryable`. Real broker; the relay's answer comes from an MQTT client standing in for a newer relay.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { CliRun } from '../../harness/cliRun.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, startBroker } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

describe('printwire print and a final error of a code it does not know', () => {
  it('prints the code and message it was given, and exits 1', async () => {
    const broker = cleanup.add(await startBroker())
    // A relay's session (its client id and a persistent session): otherwise the broker answers NO_RELAY.
    const relay = cleanup.add(await TestClient.connect(broker.mqttUrl, { clientId: 'printwire-relay:future:lobby', clean: false }))
    await relay.subscribe('printers/lobby/jobs')
    const run = new CliRun(cleanup, ['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--id', 'future-1'], Buffer.from('<RC1,1>hi<p>'))
    await relay.waitFor((m) => m.topic === 'printers/lobby/jobs' && m.json?.id === 'future-1', 15_000, 'the job')
    const error = { jobId: 'future-1', printerId: 'lobby', code: 'TICKET_STOCK_WRONG', message: 'a newer relay refused the job', retryable: false, at: new Date().toISOString() }
    await relay.publish('printers/lobby/errors', JSON.stringify(error), { qos: 1 })
    const exit = await run.exit()
    expect(exit.stderr).toContain('printwire: TICKET_STOCK_WRONG: a newer relay refused the job\n')
    expect(exit.code).toBe(1)
  })
})
