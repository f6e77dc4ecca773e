/**
 * JOB_MAX_AGE on a monotonic clock, kept across restarts (issue #10, finding 10): a job's age is the time it
 * waited in a running relay, so a step of the wall clock (across a restart or not) never expires it, and the
 * age waited before a restart still counts after it. The relay's clocks are injected: the test steps the
 * wall clock and advances the monotonic one instead of waiting; everything else is real.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'
import { systemClock, type Clock } from '../../relay/clock.ts'
import type { Relay } from '../../relay/relay.ts'
import { TestClient, type Received } from '../../harness/mqttClient.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const HOUR = 3_600_000

/** The system's clocks, the wall one stepped by `wallStep`, the monotonic one advanced by `advanced`. */
function movableClock (): Clock & { wallStep: number, advanced: number } {
  const clock = {
    ...systemClock,
    wallStep: 0,
    advanced: 0,
    now: () => Date.now() + clock.wallStep,
    monotonic: () => systemClock.monotonic() + clock.advanced
  }
  return clock
}

describe('JOB_MAX_AGE', () => {
  it('counts the age a job waited before a restart, on a monotonic clock: a wall-clock step of 2 h across the restart expires nothing', async () => {
    const broker = cleanup.add(await startBroker())
    const sim: BocaSimulator = cleanup.add(await startPrinter({ initialState: 'offline' }))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/errors', 'printers/lobby/responses', 'printers/lobby/status')
    const env = relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { JOB_MAX_AGE: '60' })
    const errorsOf = (code: string): Received[] => client.messages.filter((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === 'aged' && m.json?.code === code)

    const first = movableClock()
    let relay: Relay = await startRelay(env, { clock: first })
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'unreachable')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'aged', data: 'aged<p>' }))
    await client.waitFor(() => errorsOf('PRINTER_UNREACHABLE').length === 1)
    first.advanced += 40_000 // the job has waited 40 s of the 60
    await relay.stop()

    // After a restart, the wall clock 2 h on (NTP stepped it), the monotonic clock starting afresh.
    const second = movableClock()
    second.wallStep = 2 * HOUR
    relay = cleanup.add(await startRelay(env, { clock: second }))
    // Tried again, not expired: 40 s old, whatever the wall clock says.
    await client.waitFor(() => errorsOf('PRINTER_UNREACHABLE').length === 2, 10_000, 'a second PRINTER_UNREACHABLE')
    expect(errorsOf('JOB_EXPIRED')).toEqual([])
    second.advanced += 25_000 // 40 + 25 s: past JOB_MAX_AGE, though this run has seen only 25 s
    const expired = await client.waitFor(() => errorsOf('JOB_EXPIRED').length === 1, 10_000, 'JOB_EXPIRED').then(() => errorsOf('JOB_EXPIRED')[0] as Received)
    expect(expired.json.message).toContain('JOB_MAX_AGE (60 s)')
    await sim.setState('ready')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'young', data: 'young<p>' }))
    expect((await client.outcome('lobby', 'young')).json.status).toBe('printed')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['young<p>'])
  })

  it('does not expire a waiting job when the wall clock steps 2 h forward while the relay runs', async () => {
    const broker = cleanup.add(await startBroker())
    const sim: BocaSimulator = cleanup.add(await startPrinter({ initialState: 'offline' }))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/errors', 'printers/lobby/responses', 'printers/lobby/status')
    const clock = movableClock()
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), { JOB_MAX_AGE: '60' }), { clock }))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'unreachable')
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'stepped', data: 'stepped<p>' }))
    expect((await client.outcome('lobby', 'stepped')).json.code).toBe('PRINTER_UNREACHABLE')
    clock.wallStep = 2 * HOUR
    await sim.setState('ready')
    expect((await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'stepped')).json.status).toBe('printed')
    expect(client.messages.filter((m) => m.json?.code === 'JOB_EXPIRED')).toEqual([])
  })
})
