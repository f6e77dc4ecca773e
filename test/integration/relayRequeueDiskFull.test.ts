/**
 * Review of issue 11 (relay worker split): a job the printer refused with a fault, whose return to `queued` could
 * not be written because the disk was full, is still the same job, of which nothing printed. Before the split
 * (7a6daea) the relay resent it once the disk could write again and it printed; jobPhases.ts must not take the
 * failed write for "its bytes may have reached the printer" and end it UNCERTAIN. Real tmpfs, real printer
 * simulator, real broker.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { captureLog } from '../../harness/logCapture.ts'
import { TestClient, type Received } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter } from '../../harness/parts.ts'
import { mountTinyDisk, tinyDiskUnavailable } from '../../harness/tinyDisk.ts'
import { loadRelayConfig } from '../../relay/config.ts'
import { Relay } from '../../relay/relay.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** Bigger than a page, so that no job's write fits in the room left in the last page of LevelDB's log. */
const job = (id: string): string => JSON.stringify({ id, data: `${id}${'.'.repeat(16 * 1024)}<p>` })

const isStatus = (state: string, detail?: string) => (m: Received): boolean =>
  m.topic === 'printers/lobby/status' && m.json?.state === state && (detail === undefined || m.json?.detail === detail)

describe.skipIf(tinyDiskUnavailable !== undefined)('relay: a fault while the disk is full', () => {
  it('resends a job the printer refused (nothing printed) once the disk can write again, rather than ending it UNCERTAIN', async () => {
    const disk = await mountTinyDisk(cleanup, 4 * 1024 * 1024)
    const broker = cleanup.add(await startBroker())
    // Paper out, found only once the job's bytes are in (after a delay in which the disk fills).
    const sim = cleanup.add(await startPrinter({ initialState: 'paper-out', printDelayMs: 1500 }))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    const log = captureLog()
    const relay = new Relay({ config: loadRelayConfig(relayEnv(broker.mqttUrl, { lobby: sim }, disk.dir, { STATUS_WAIT_MS: '5000' })), logger: log.logger })
    await relay.start()
    cleanup.add(relay)
    await client.waitFor(isStatus('online'))

    // The disk fills while g-1's bytes are with the printer (after its `printing` mark); g-2, too big for the last
    // page of LevelDB's log, makes sure the spool has met the full disk before the printer answers.
    let filled: Promise<void> | undefined
    sim.once('connection', () => { filled = disk.fill().then(() => client.publish('printers/lobby/jobs', job('g-2'))) })
    await client.publish('printers/lobby/jobs', job('g-1'))
    await client.waitFor((m) => m.json?.jobId === 'g-2' && m.json?.code === 'RELAY_DISK_FULL', 10_000, 'RELAY_DISK_FULL for g-2')
    await filled
    // The printer refuses g-1 (paper out): nothing of it printed; putting it back to `queued` cannot be written.
    await expect.poll(() => sim.rejectedTickets, { timeout: 10_000 }).toBe(1)
    await expect.poll(() => log.entries().some((e) => e.jobId === 'g-1' && e.msg === 'could not record a job\'s progress; retrying'), { timeout: 10_000 }).toBe(true)

    await sim.setState('ready')
    await disk.free()
    const outcome = await client.waitFor((m) => m.json?.jobId === 'g-1' && (m.topic.endsWith('/responses') || m.json?.retryable === false), 20_000, 'the outcome of g-1')
    expect(outcome.json, JSON.stringify(outcome.json)).toMatchObject({ jobId: 'g-1', status: 'printed' })
    expect(client.messages.filter((m) => m.json?.code === 'UNCERTAIN')).toEqual([])
    expect(sim.tickets.map((t) => t.bytes.toString().replace(/\.+<p>$/, ''))).toContain('g-1')
  })
})
