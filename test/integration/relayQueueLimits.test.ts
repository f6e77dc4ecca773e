/**
 * The relay's per-printer queue limits (issue #10, finding 8): jobs for a dead printer wait up to
 * MAX_QUEUED_JOBS jobs and MAX_QUEUED_BYTES bytes; a job over either is answered `QUEUE_FULL` (final: the
 * relay does not keep it) and never printed; the others print when the printer is back. The jobs waiting are
 * on disk only: the relay's queue in memory holds none of their bytes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { TestClient, type Received } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const KiB = 1024
const job = (id: string, bytes: number): string => JSON.stringify({ id, data: `${id}${'.'.repeat(bytes - id.length - 3)}<p>` })
const printedIds = (tickets: Array<{ bytes: Buffer }>): string[] => tickets.map((t) => t.bytes.toString().replace(/\.+<p>$/, ''))

/** Whether a value holds binary data anywhere (a Buffer, a typed array, an ArrayBuffer). */
function holdsBytes (value: unknown, seen = new Set<unknown>()): boolean {
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true
  if (typeof value !== 'object' || value === null || seen.has(value)) return false
  seen.add(value)
  return Object.values(value).some((inner) => holdsBytes(inner, seen))
}

describe('relay queue limits', () => {
  it('answers jobs over MAX_QUEUED_JOBS or MAX_QUEUED_BYTES for a dead printer QUEUE_FULL, never prints them, and prints the rest when it is back', async () => {
    const broker = cleanup.add(await startBroker())
    const sim = cleanup.add(await startPrinter())
    await sim.setState('offline') // its port closed
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    const relay = cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), {
      MAX_QUEUED_JOBS: '4', MAX_JOB_BYTES: String(64 * KiB), MAX_QUEUED_BYTES: String(100 * KiB)
    })))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'unreachable')

    // 40 + 40 KiB wait; 40 more would pass 100 KiB; small ones fit until there are 4 jobs.
    const jobs: Array<[string, number]> = [['q-1', 40 * KiB], ['q-2', 40 * KiB], ['q-3', 40 * KiB], ['q-4', 100], ['q-5', 100], ['q-6', 100]]
    for (const [id, bytes] of jobs) await client.publish('printers/lobby/jobs', job(id, bytes))
    const isFull = (id: string) => (m: Received): boolean => m.topic === 'printers/lobby/errors' && m.json?.jobId === id && m.json?.code === 'QUEUE_FULL'
    const byBytes = await client.waitFor(isFull('q-3'), 10_000, 'QUEUE_FULL for q-3')
    const byCount = await client.waitFor(isFull('q-6'), 10_000, 'QUEUE_FULL for q-6')
    for (const error of [byBytes, byCount]) expect(error.json).toMatchObject({ printerId: 'lobby', retryable: false })
    expect(byBytes.json.message).toContain('MAX_QUEUED_BYTES')
    expect(relay.pending()).toEqual({ lobby: 4 })
    expect(relay.pendingBytes()).toEqual({ lobby: 80 * KiB + 200 })

    // The waiting jobs' bytes are on disk, not in the relay's queue.
    const lanes = (Reflect.get(relay, 'running') as { lanes: Array<{ worker: object }> }).lanes
    const queue = Reflect.get(Reflect.get(lanes[0]?.worker ?? {}, 'queue') as object, 'entries') as unknown[]
    expect(queue).toHaveLength(4)
    expect(holdsBytes(queue)).toBe(false)

    await sim.setState('ready')
    for (const id of ['q-1', 'q-2', 'q-4', 'q-5']) {
      await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === id, 20_000, `the result of ${id}`)
    }
    expect(printedIds(sim.tickets)).toEqual(['q-1', 'q-2', 'q-4', 'q-5'])
    expect(relay.pending()).toEqual({ lobby: 0 })
    expect(relay.pendingBytes()).toEqual({ lobby: 0 })

    // A refused job is not remembered as done: sent again once there is room, it prints.
    await client.publish('printers/lobby/jobs', job('q-3', 40 * KiB))
    await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'q-3', 10_000, 'the result of q-3')
    expect(printedIds(sim.tickets)).toEqual(['q-1', 'q-2', 'q-4', 'q-5', 'q-3'])
  })
})
