/**
 * Delivery guarantees (SPEC "Delivery") with real processes killed for real: the durable spool,
 * duplicate suppression by job id, and UNCERTAIN instead of a silent reprint.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { PartProcess } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function setup (printer: Parameters<typeof startPrinter>[0] = {}) {
  const broker = cleanup.add(await startBroker())
  const sim = cleanup.add(await startPrinter(printer))
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
  const env = relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup))
  return { broker, sim, client, env }
}

/** An in-process relay, once it is subscribed (its `online` status is published after the subscription). */
async function relayOnline (client: TestClient, env: Record<string, string>): Promise<Awaited<ReturnType<typeof startRelay>>> {
  const seen = client.messages.length
  const relay = await startRelay(env)
  await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online' && client.messages.indexOf(m) >= seen, 10_000, 'relay online')
  return relay
}

const job = (id: string, data = `${id}<p>`): string => JSON.stringify({ id, data })

describe('duplicate suppression', () => {
  it('prints a job id once and answers its duplicate with the original result', async () => {
    const { sim, client, env } = await setup()
    cleanup.add(await relayOnline(client, env))
    await client.publish('printers/lobby/jobs', job('dup-1'))
    const first = await client.outcome('lobby', 'dup-1')
    await client.publish('printers/lobby/jobs', job('dup-1'))
    await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'dup-1' && m !== first)
    const answers = client.messages.filter((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'dup-1')
    expect(answers).toHaveLength(2)
    expect(answers[1]?.json).toEqual(first.json)
    expect(sim.tickets).toHaveLength(1)
  })

  it('prints a duplicate delivered while the original is still queued only once', async () => {
    const { sim, client, env } = await setup({ printDelayMs: 300 })
    cleanup.add(await relayOnline(client, { ...env, STATUS_WAIT_MS: '3000' }))
    await client.publish('printers/lobby/jobs', job('slow-0'))
    await client.publish('printers/lobby/jobs', job('q-1'))
    await client.publish('printers/lobby/jobs', job('q-1'))
    await client.publish('printers/lobby/jobs', job('after'))
    await client.outcome('lobby', 'after')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['slow-0<p>', 'q-1<p>', 'after<p>'])
  })

  it('remembers printed ids across a relay restart', async () => {
    const { sim, client, env } = await setup()
    const relay = await relayOnline(client, env)
    await client.publish('printers/lobby/jobs', job('kept-1'))
    const first = await client.outcome('lobby', 'kept-1')
    await relay.stop()
    cleanup.add(await relayOnline(client, env))
    await client.publish('printers/lobby/jobs', job('kept-1'))
    await client.publish('printers/lobby/jobs', job('kept-2'))
    await client.outcome('lobby', 'kept-2')
    const answers = client.messages.filter((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'kept-1')
    expect(answers.map((m) => m.json)).toEqual([first.json, first.json])
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['kept-1<p>', 'kept-2<p>'])
  })

  it('answers a duplicate of a refused job with the same error, without printing', async () => {
    const { sim, client, env } = await setup()
    cleanup.add(await relayOnline(client, env))
    const expired = JSON.stringify({ id: 'exp-1', data: 'x<p>', expiresAt: '2020-01-01T00:00:00Z' })
    await client.publish('printers/lobby/jobs', expired)
    const first = await client.outcome('lobby', 'exp-1')
    expect(first.json.code).toBe('JOB_EXPIRED')
    await client.publish('printers/lobby/jobs', expired)
    await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === 'exp-1' && m !== first)
    expect(sim.tickets).toHaveLength(0)
  })
})

describe('crashes', () => {
  it('keeps a spooled job through SIGKILL and prints it once after the restart', async () => {
    const { sim, client, env } = await setup()
    await sim.setState('offline')
    const relay = cleanup.add(new PartProcess('relay/main.ts', env))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'unreachable', 20_000, 'unreachable')
    await client.publish('printers/lobby/jobs', job('spooled-1'))
    // PUBACK came back: the job is on the relay's disk. It cannot print yet.
    await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === 'spooled-1' && m.json?.code === 'PRINTER_UNREACHABLE')
    await relay.kill('SIGKILL')
    await sim.setState('ready')
    cleanup.add(new PartProcess('relay/main.ts', env))
    const result = await client.waitFor((m) => m.topic === 'printers/lobby/responses' && m.json?.jobId === 'spooled-1', 20_000, 'spooled-1 printed')
    expect(result.json.status).toBe('printed')
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['spooled-1<p>'])
  })

  it('after a clean stop with jobs queued behind a printing one, prints each queued job once after the restart, none UNCERTAIN', async () => {
    // Each outcome's sync also marks the next job `printing`; a clean stop must unmark the one it never sent.
    const { sim, client, env } = await setup({ printDelayMs: 150 })
    const relay = await relayOnline(client, env)
    for (const id of ['q-1', 'q-2', 'q-3', 'q-4', 'q-5']) await client.publish('printers/lobby/jobs', job(id))
    await client.outcome('lobby', 'q-2')
    await relay.stop()
    cleanup.add(await relayOnline(client, env))
    for (const id of ['q-3', 'q-4', 'q-5']) expect((await client.outcome('lobby', id)).json.status).toBe('printed')
    expect(client.messages.filter((m) => m.topic.endsWith('/errors'))).toEqual([])
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['q-1<p>', 'q-2<p>', 'q-3<p>', 'q-4<p>', 'q-5<p>'])
  })

  it('reports UNCERTAIN, and does not reprint, when the relay dies while the printer is printing', async () => {
    const { sim, client, env } = await setup({ printDelayMs: 1500 })
    const relayEnvSlow = { ...env, STATUS_WAIT_MS: '5000' }
    const relay = cleanup.add(new PartProcess('relay/main.ts', relayEnvSlow))
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online', 20_000, 'online')
    await client.publish('printers/lobby/jobs', job('mid-1'))
    // The printer has the bytes and is printing: kill the relay before the ACK.
    await new Promise<void>((resolve) => { const check = (): void => { if (sim.received > 0) resolve(); else setTimeout(check, 10) }; check() })
    await relay.kill('SIGKILL')
    cleanup.add(new PartProcess('relay/main.ts', relayEnvSlow))
    const uncertain = await client.waitFor((m) => m.topic === 'printers/lobby/errors' && m.json?.jobId === 'mid-1', 20_000, 'UNCERTAIN')
    expect(uncertain.json).toMatchObject({ code: 'UNCERTAIN', retryable: false })
    await sim.waitForTickets(1, 10_000)
    // A duplicate of it gets the same answer and prints nothing.
    await client.publish('printers/lobby/jobs', job('mid-1'))
    await client.publish('printers/lobby/jobs', job('mid-2'))
    await client.outcome('lobby', 'mid-2', 20_000)
    expect(client.messages.filter((m) => m.json?.jobId === 'mid-1' && m.topic.endsWith('/errors')).length).toBe(2)
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['mid-1<p>', 'mid-2<p>'])
  })
})
