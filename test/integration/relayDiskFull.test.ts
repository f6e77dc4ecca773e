/**
 * The relay on a full disk (issue #10, finding 7), on a real tmpfs of a few MiB filled to the last byte: its
 * spool stops writing after a failed write and reopens once it can (LevelDB keeps writing after a torn
 * record, and loses those writes on the next open); jobs that arrive are not acknowledged, their clients
 * are told `RELAY_DISK_FULL` and the status says `error` "relay disk full"; once space is freed the broker
 * delivers them again and they print, once each, in order; nothing prints without its `printing` mark on
 * disk, nothing is answered that is not on disk, and a restart afterwards reprints nothing and contradicts
 * no answer.
 */
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { JobSpool, type StoredOutcome } from '../../relay/spool.ts'
import { silentLogger } from '../../runtime/logger.ts'
import type { Received, TestClient as Client } from '../../harness/mqttClient.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { PASSWORDS, writeTestUsers } from '../../harness/accessTargets.ts'
import { startMosquitto } from '../../harness/mosquittoBroker.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { mountTinyDisk, tinyDiskUnavailable } from '../../harness/tinyDisk.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const DISK_BYTES = 4 * 1024 * 1024
/** Bigger than a page, so that no job's write fits in the room left in the last page of LevelDB's log. */
const job = (id: string): string => JSON.stringify({ id, data: `${id}${'.'.repeat(16 * 1024)}<p>` })
const printedIds = (tickets: Array<{ bytes: Buffer }>): string[] => tickets.map((t) => t.bytes.toString().replace(/\.+<p>$/, ''))

const result = (jobId: string): StoredOutcome => ({
  kind: 'result',
  message: { jobId, printerId: 'p', status: 'printed', bytes: 1, durationMs: 1, printer: { acks: 1, expectedAcks: 1, statusBytes: ['0x06'], condition: 'ticket-ack' }, at: '2026-11-22T00:00:00.000Z' }
})

const isStatus = (state: string, detail?: string) => (m: Received): boolean =>
  m.topic === 'printers/lobby/status' && m.json?.state === state && (detail === undefined || m.json?.detail === detail)

/** Every outcome the client heard for a job: results, and errors other than the retryable ones. */
function finalOutcomes (client: Client, jobId: string): string[] {
  return client.messages
    .filter((m) => m.json?.jobId === jobId && (m.topic.endsWith('/responses') || (m.topic.endsWith('/errors') && m.json?.retryable === false)))
    .map((m) => m.json.status ?? m.json.code)
}

type BrokerKind = 'embedded Aedes' | 'Mosquitto'

/** A broker; on Mosquitto, with the test users (a relay user for lobby, alice a client of lobby). */
async function startAnyBroker (kind: BrokerKind): Promise<{ mqttUrl: string, relayLogin: Record<string, string>, clientLogin: { username?: string, password?: string } }> {
  if (kind === 'embedded Aedes') return { mqttUrl: cleanup.add(await startBroker()).mqttUrl, relayLogin: {}, clientLogin: {} }
  const dir = await tempDir(cleanup)
  const authFile = path.join(dir, 'auth.json')
  await writeTestUsers(authFile)
  const mosquitto = cleanup.add(await startMosquitto(authFile, dir))
  return {
    mqttUrl: mosquitto.mqttUrl,
    relayLogin: { MQTT_USERNAME: 'relay-lobby', MQTT_PASSWORD: PASSWORDS['relay-lobby'] },
    clientLogin: { username: 'alice', password: PASSWORDS.alice }
  }
}

async function parts (env: Record<string, string> = {}, printer: Parameters<typeof startPrinter>[0] = {}, brokerKind: BrokerKind = 'embedded Aedes') {
  const disk = await mountTinyDisk(cleanup, DISK_BYTES)
  const broker = await startAnyBroker(brokerKind)
  const sim = cleanup.add(await startPrinter(printer))
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl, broker.clientLogin))
  await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
  const relayConfig = relayEnv(broker.mqttUrl, { lobby: sim }, disk.dir, { ...broker.relayLogin, ...env })
  const relay = await startRelay(relayConfig)
  let stopped = false
  cleanup.defer(async () => { if (!stopped) await relay.stop() })
  await client.waitFor(isStatus('online'))
  return { disk, sim, client, relayConfig, relay, stopRelay: async () => { stopped = true; await relay.stop() } }
}

describe.skipIf(tinyDiskUnavailable !== undefined)('relay on a full disk', () => {
  it('spool: refuses writes with RELAY_DISK_FULL once one failed, and loses none of those made after space is back, across a reopen', async () => {
    const disk = await mountTinyDisk(cleanup, DISK_BYTES)
    const changes: Array<string | undefined> = []
    const open = async (): Promise<JobSpool> => {
      const spool = new JobSpool({ dir: disk.dir, logger: silentLogger(), dedupeWindow: 100, recoveryMs: { min: 20, max: 200 }, onWritable: (problem) => changes.push(problem) })
      await spool.start()
      return spool
    }
    let spool = await open()
    const data = Buffer.alloc(16 * 1024, 0x41)
    const j1 = await spool.add({ id: 'j1', printerId: 'p', copies: 1, receivedAt: 1 }, data)

    await disk.fill()
    await expect(spool.add({ id: 'j2', printerId: 'p', copies: 1, receivedAt: 2 }, data)).rejects.toMatchObject({ code: 'RELAY_DISK_FULL', retryable: true })
    expect(spool.problem).toBe('relay disk full')
    expect(changes).toEqual(['relay disk full'])
    // Nothing more is written, not even a small record, until the spool is reopened.
    await expect(spool.finish('p', result('j1'), j1)).rejects.toMatchObject({ code: 'RELAY_DISK_FULL' })

    await disk.free()
    await spool.writable()
    expect(spool.problem).toBeUndefined()
    expect(changes).toEqual(['relay disk full', undefined])
    const j3 = await spool.add({ id: 'j3', printerId: 'p', copies: 1, receivedAt: 3 }, data)
    j3.phase = 'printing'
    await spool.update(j3)
    await spool.finish('p', result('j1'), j1)
    await spool.stop()

    spool = cleanup.add(await open())
    expect((await spool.unfinished('p')).map((e) => [e.job.id, e.job.phase])).toEqual([['j3', 'printing']])
    expect(await spool.outcomeOf('p', 'j1')).toEqual(result('j1'))
  })

  it.each<BrokerKind>(['embedded Aedes', 'Mosquitto'])('answers jobs it cannot store RELAY_DISK_FULL (retryable), shows `error`, and prints them once each, in order, when space is back; a restart reprints none (%s)', async (brokerKind) => {
    const { disk, sim, client, relayConfig, stopRelay } = await parts({}, {}, brokerKind)
    await client.publish('printers/lobby/jobs', job('d-0'))
    await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'd-0')

    await disk.fill()
    const ids = ['d-1', 'd-2', 'd-3']
    for (const id of ids) await client.publish('printers/lobby/jobs', job(id))
    for (const id of ids) {
      const error = await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === id, 10_000, `RELAY_DISK_FULL for ${id}`)
      expect(error.json).toMatchObject({ printerId: 'lobby', code: 'RELAY_DISK_FULL', retryable: true })
      expect(error.json.message).toContain('relay disk full')
    }
    await client.waitFor(isStatus('error', 'relay disk full'), 10_000, 'status error "relay disk full"')
    expect(printedIds(sim.tickets)).toEqual(['d-0'])

    await disk.free()
    for (const id of ids) {
      await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === id, 20_000, `the result of ${id}`)
    }
    const statuses = client.messages.filter((m) => m.topic === 'printers/lobby/status').map((m) => m.json.state)
    expect(statuses.at(-1)).toBe('online')
    // A clean reconnect fetched the withheld jobs: no Last Will, so no `offline` in between.
    expect(statuses).not.toContain('offline')
    expect(printedIds(sim.tickets)).toEqual(['d-0', ...ids])

    // After a restart, the same jobs again are answered from what the spool remembers, not printed.
    await stopRelay()
    cleanup.add(await startRelay(relayConfig))
    for (const id of ids) await client.publish('printers/lobby/jobs', job(id))
    for (const id of ids) {
      await expect.poll(() => finalOutcomes(client, id).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2)
      expect(new Set(finalOutcomes(client, id))).toEqual(new Set(['printed']))
    }
    expect(printedIds(sim.tickets)).toEqual(['d-0', ...ids])
    expect(client.messages.filter((m) => m.json?.code === 'UNCERTAIN')).toEqual([])
  })

  it('answers a job that printed while the disk filled only once its outcome is on disk, and never UNCERTAIN after a restart', async () => {
    const { disk, sim, client, relayConfig, stopRelay } = await parts({ STATUS_WAIT_MS: '5000' }, { printDelayMs: 1000 })
    // The disk fills while the printer prints e-1: after its mark, before its outcome. (A small write may still
    // fit in the last page of a file; e-2, too big for that, makes sure the spool has met the full disk.)
    let filled: Promise<void> | undefined
    sim.once('connection', () => { filled = disk.fill().then(() => client.publish('printers/lobby/jobs', job('e-2'))) })
    await client.publish('printers/lobby/jobs', job('e-1'))
    await client.waitFor(isStatus('error', 'relay disk full'), 10_000, 'status error "relay disk full"')
    await filled
    await new Promise((resolve) => { if (sim.tickets.length > 0) resolve(undefined); else sim.once('ticket', resolve) })
    expect(printedIds(sim.tickets)).toEqual(['e-1'])
    // Printed, but its outcome cannot be stored: it is not answered, for several retry periods.
    await new Promise((resolve) => setTimeout(resolve, 5 * Number(relayConfig.RETRY_MAX_MS)))
    expect(finalOutcomes(client, 'e-1')).toEqual([])

    await disk.free()
    for (const id of ['e-1', 'e-2']) await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === id, 20_000, `the result of ${id}`)
    await client.waitFor((m) => isStatus('online')(m) && client.messages.indexOf(m) > client.messages.findIndex(isStatus('error', 'relay disk full')), 10_000, 'online again')

    await stopRelay()
    cleanup.add(await startRelay(relayConfig))
    for (const id of ['e-1', 'e-2']) await client.publish('printers/lobby/jobs', job(id))
    for (const id of ['e-1', 'e-2']) {
      await expect.poll(() => finalOutcomes(client, id).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2)
      expect(new Set(finalOutcomes(client, id))).toEqual(new Set(['printed']))
    }
    expect(printedIds(sim.tickets)).toEqual(['e-1', 'e-2'])
  })

  it('prints no job whose `printing` mark it could not write, and prints it once when space is back', async () => {
    const { disk, sim, client, relayConfig, stopRelay } = await parts({}, { initialState: 'paper-out' })
    await client.publish('printers/lobby/jobs', job('f-1'))
    await client.waitFor((m) => m.json?.jobId === 'f-1' && m.json?.code === 'PRINTER_ERROR', 10_000, 'PRINTER_ERROR for f-1')

    // f-1 is on disk; its turn comes while the disk is full (f-2, too big for the last page of a file, makes
    // sure the spool has met it).
    await disk.fill()
    await client.publish('printers/lobby/jobs', job('f-2'))
    await client.waitFor((m) => m.json?.jobId === 'f-2' && m.json?.code === 'RELAY_DISK_FULL', 10_000, 'RELAY_DISK_FULL for f-2')
    await client.waitFor(isStatus('error', 'relay disk full'), 10_000, 'status error "relay disk full"')
    await sim.setState('ready')
    // Several retry periods: it waits for the disk, not for a timer.
    await new Promise((resolve) => setTimeout(resolve, 5 * Number(relayConfig.RETRY_MAX_MS)))
    expect(printedIds(sim.tickets)).toEqual([])

    // Stopped while the disk is full, started once it is not: f-1 was never marked, so it is not UNCERTAIN;
    // both print once, in order.
    await stopRelay()
    await disk.free()
    cleanup.add(await startRelay(relayConfig))
    for (const id of ['f-1', 'f-2']) await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === id, 20_000, `the result of ${id}`)
    // (The same outcome may come twice, from the worker and from the outbox at the first connection: SPEC allows it.)
    expect(new Set(finalOutcomes(client, 'f-1'))).toEqual(new Set(['printed']))
    expect(printedIds(sim.tickets)).toEqual(['f-1', 'f-2'])
  })

  it('does not acknowledge a cancel it cannot store: it comes again once space is back, and the job never prints', async () => {
    const { disk, sim, client, relayConfig } = await parts({}, { initialState: 'paper-out' })
    await client.publish('printers/lobby/jobs', job('g-1'))
    await client.publish('printers/lobby/jobs', job('g-2'))
    await client.waitFor((m) => m.json?.jobId === 'g-1' && m.json?.code === 'PRINTER_ERROR', 10_000, 'PRINTER_ERROR for g-1')
    // The spool meets the full disk (g-3 is too big for the last page of a file): then the cancel of g-2 comes.
    await disk.fill()
    await client.publish('printers/lobby/jobs', job('g-3'))
    await client.waitFor((m) => m.json?.jobId === 'g-3' && m.json?.code === 'RELAY_DISK_FULL', 10_000, 'RELAY_DISK_FULL for g-3')
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'g-2' }))
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'g-ahead' }))
    // Several retry periods: nothing is answered that is not on disk.
    await new Promise((resolve) => setTimeout(resolve, 5 * Number(relayConfig.RETRY_MAX_MS)))
    expect(finalOutcomes(client, 'g-2')).toEqual([])
    expect(finalOutcomes(client, 'g-ahead')).toEqual([])

    await disk.free()
    for (const id of ['g-2', 'g-ahead']) await client.waitFor((m) => m.json?.jobId === id && m.json?.code === 'JOB_CANCELLED', 20_000, `JOB_CANCELLED for ${id}`)
    await sim.setState('ready')
    for (const id of ['g-1', 'g-3']) await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === id, 20_000, `the result of ${id}`)
    expect(printedIds(sim.tickets)).toEqual(['g-1', 'g-3'])
    expect(finalOutcomes(client, 'g-2')).toEqual(['JOB_CANCELLED'])
  })
})
