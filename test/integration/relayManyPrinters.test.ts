/**
 * Review of issue 11 (relay lifecycle: lanes joined by an emitter): a relay serving more than ten printers starts
 * without a process warning. At 7a6daea the spool's "writable" news went to each lane in a loop; since the split
 * each lane listens on one emitter, and Node warns of a "possible EventEmitter memory leak" from the eleventh
 * listener on, on every relay with eleven printers or more. Real broker, real relay; the printers are closed
 * loopback ports (unreachable), which is all a start needs.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, relayEnv, startBroker, startRelay, tempDir } from '../../harness/parts.ts'
import { freePort } from '../../harness/ports.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

describe('a relay with many printers', () => {
  it('starts twelve printer lanes without an EventEmitter leak warning', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error): void => { warnings.push(warning) }
    process.on('warning', onWarning)
    cleanup.defer(() => { process.off('warning', onWarning) })
    const broker = cleanup.add(await startBroker())
    const printers: Record<string, string> = {}
    for (let i = 1; i <= 12; i++) printers[`p${i}`] = `127.0.0.1:${await freePort()}`
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, printers, await tempDir(cleanup), { PRINTER_CONNECT_TIMEOUT_MS: '500' })))
    // A warning is emitted on the next tick at the latest.
    await new Promise((resolve) => setImmediate(resolve))
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([])
  })
})
