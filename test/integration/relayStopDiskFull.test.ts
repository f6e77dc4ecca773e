/**
 * Review of issue 11 (relay worker split), a change of behaviour at stop: a job that printed while the disk was
 * full, its outcome not stored, stays marked `printing` when the relay is stopped, so that the next run reports
 * it UNCERTAIN rather than printing it again. At 7a6daea the stop put such a job back to `queued` once the disk
 * could write (its head job "marked ahead and not sent"), and the next run printed it a second time. Real tmpfs,
 * real printer simulator, real broker.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { captureLog } from '../../harness/logCapture.ts'
import { TestClient, type Received } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay } from '../../harness/parts.ts'
import { mountTinyDisk, tinyDiskUnavailable } from '../../harness/tinyDisk.ts'
import { loadRelayConfig } from '../../relay/config.ts'
import { Relay } from '../../relay/relay.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** Bigger than a page, so that no job's write fits in the room left in the last page of LevelDB's log. */
const job = (id: string): string => JSON.stringify({ id, data: `${id}${'.'.repeat(16 * 1024)}<p>` })
const printedIds = (tickets: Array<{ bytes: Buffer }>): string[] => tickets.map((t) => t.bytes.toString().replace(/\.+<p>$/, ''))

const isStatus = (state: string) => (m: Received): boolean => m.topic === 'printers/lobby/status' && m.json?.state === state

describe.skipIf(tinyDiskUnavailable !== undefined)('relay stopped while a printed job\'s outcome cannot be stored', () => {
  it('does not print that job again after a restart: it is UNCERTAIN', async () => {
    const disk = await mountTinyDisk(cleanup, 4 * 1024 * 1024)
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter({ printDelayMs: 1000 }))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    const env = relayEnv(broker.mqttUrl, { lobby: sim }, disk.dir, { STATUS_WAIT_MS: '5000' })
    const log = captureLog()
    const relay = new Relay({ config: loadRelayConfig(env), logger: log.logger })
    await relay.start()
    await client.waitFor(isStatus('online'))

    // The disk fills while k-1 prints (after its mark, before its outcome); k-2 makes sure the spool met it.
    let filled: Promise<void> | undefined
    sim.once('connection', () => { filled = disk.fill().then(() => client.publish('printers/lobby/jobs', job('k-2'))) })
    await client.publish('printers/lobby/jobs', job('k-1'))
    await sim.waitForTickets(1, 10_000)
    await filled
    const logged = (msg: string) => (): boolean => log.entries().some((e) => e.jobId === 'k-1' && e.msg === msg)
    await expect.poll(logged('could not record a job\'s outcome; retrying'), { timeout: 10_000 }).toBe(true)

    // Stopped now; the stop ends once the disk can write again.
    const stopped = relay.stop()
    await expect.poll(logged('could not record a job\'s progress; retrying'), { timeout: 10_000 }).toBe(true)
    await disk.free()
    await stopped

    cleanup.add(await startRelay(env))
    await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'k-2', 20_000, 'the result of k-2')
    expect(printedIds(sim.tickets)).toEqual(['k-1', 'k-2'])
    const k1 = client.messages.filter((m) => m.json?.jobId === 'k-1' && (m.topic.endsWith('/responses') || m.json?.retryable === false))
    expect(k1.map((m) => m.json.status ?? m.json.code)).toEqual(['UNCERTAIN'])
  })
})
