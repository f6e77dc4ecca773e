/**
 * Cancel (SPEC "No relay, cancel") with real parts: `printers/<id>/cancel` with `{"jobId"}` drops a job that has not
 * started printing, durably (not after a relay SIGKILL and restart either, nor when the job arrives after its
 * cancel), and answers JOB_CANCELLED on `errors`; a job already printing is not touched.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { BocaSimulator } from '../../printer-sim/bocaSimulator.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { PartProcess } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const job = (id: string): string => JSON.stringify({ id, data: `<RC1,1>${id}<p>` })
const printedIds = (sim: BocaSimulator): string[] => sim.tickets.map((t) => /<RC1,1>([^<]*)<p>/.exec(t.bytes.toString())?.[1] ?? '?')

/** A broker, a printer, and a client that reads lobby's results and status. */
async function parts (): Promise<{ broker: StartedBroker, sim: BocaSimulator, client: TestClient, dir: string }> {
  const broker = cleanup.add(await startBroker())
  const sim = cleanup.add(await startPrinter())
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
  return { broker, sim, client, dir: await tempDir(cleanup) }
}

const online = (client: TestClient): Promise<unknown> =>
  client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online' && m.json?.at !== undefined, 20_000, 'lobby online')

/** Every outcome published for a job id, in order: `printed`/`sent`, or an error code. */
const outcomesOf = (client: TestClient, id: string): string[] =>
  client.messages.filter((m) => m.topic !== 'printers/lobby/status' && m.json?.jobId === id).map((m) => m.json.status ?? m.json.code)

describe('cancel', () => {
  it('drops queued jobs that have not started (the one waiting at the head for paper, and one behind it): JOB_CANCELLED, never printed; the next job prints', async () => {
    const { broker, sim, client, dir } = await parts()
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, dir)))
    await online(client)
    await sim.setState('paper-out')
    for (const id of ['head', 'middle', 'last']) await client.publish('printers/lobby/jobs', job(id))
    // `head` was tried and refused for paper: it waits at the head of the queue, the others behind it.
    expect((await client.outcome('lobby', 'head')).json).toMatchObject({ code: 'PRINTER_ERROR' })
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'middle' }))
    const middle = await client.waitFor((m) => m.json?.jobId === 'middle', 10_000, 'middle answered')
    expect(middle.topic).toBe('printers/lobby/errors')
    expect(middle.json).toMatchObject({ jobId: 'middle', printerId: 'lobby', code: 'JOB_CANCELLED', retryable: false })
    expect(Date.parse(middle.json.at)).not.toBeNaN()
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'head' }))
    await client.waitFor((m) => m.json?.jobId === 'head' && m.json?.code === 'JOB_CANCELLED', 10_000, 'head cancelled')
    await sim.setState('ready')
    expect((await client.outcome('lobby', 'last')).json).toMatchObject({ status: 'printed' })
    await client.publish('printers/lobby/jobs', job('after'))
    await client.waitFor((m) => m.json?.jobId === 'after' && m.json?.status === 'printed', 10_000, 'after printed')
    expect(printedIds(sim)).toEqual(['last', 'after'])
    expect(outcomesOf(client, 'head')).toEqual(['PRINTER_ERROR', 'JOB_CANCELLED'])
    expect(outcomesOf(client, 'middle')).toEqual(['JOB_CANCELLED'])
    // Sent again with the same id: answered with its outcome, never printed.
    await client.publish('printers/lobby/jobs', job('middle'))
    await expect.poll(() => outcomesOf(client, 'middle')).toEqual(['JOB_CANCELLED', 'JOB_CANCELLED'])
    await client.publish('printers/lobby/jobs', job('fence'))
    await client.waitFor((m) => m.json?.jobId === 'fence' && m.json?.status === 'printed', 10_000, 'fence printed')
    expect(printedIds(sim)).toEqual(['last', 'after', 'fence'])
  })

  it('does not touch a job that has started printing: it prints, and the cancel is answered with nothing', async () => {
    const { broker, dir } = await parts()
    // Each ticket takes a while to print: the cancel arrives while the job is on the printer.
    const sim = cleanup.add(await startPrinter({ printDelayMs: 2000 }))
    const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, dir, { PRINTER_TIMEOUT_MS: '5000', STATUS_WAIT_MS: '5000' })))
    await online(client)
    const before = sim.received
    await client.publish('printers/lobby/jobs', job('on-paper'))
    await expect.poll(() => sim.received - before).toBeGreaterThanOrEqual('<RC1,1>on-paper<p>'.length)
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'on-paper' }))
    // Cancels are taken in order: once a later one is answered, the first was handled.
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'marker' }))
    await client.waitFor((m) => m.json?.jobId === 'marker', 10_000, 'the marker cancel answered')
    expect((await client.outcome('lobby', 'on-paper')).json).toMatchObject({ status: 'printed' })
    // The job was still printing when the cancel was handled (its result came after).
    const order = client.messages.map((m) => m.json?.jobId)
    expect(order.indexOf('marker')).toBeLessThan(order.indexOf('on-paper'))
    expect(outcomesOf(client, 'on-paper')).toEqual(['printed'])
    expect(printedIds(sim)).toEqual(['on-paper'])
  })

  it('answers a cancel of a job that has not arrived yet, and the job when it arrives: JOB_CANCELLED, never printed', async () => {
    const { broker, sim, client, dir } = await parts()
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, dir)))
    await online(client)
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'not-yet' }))
    expect((await client.outcome('lobby', 'not-yet')).json).toMatchObject({ code: 'JOB_CANCELLED', retryable: false })
    await client.publish('printers/lobby/jobs', job('not-yet'))
    await expect.poll(() => outcomesOf(client, 'not-yet')).toEqual(['JOB_CANCELLED', 'JOB_CANCELLED'])
    await client.publish('printers/lobby/jobs', job('fence'))
    await client.waitFor((m) => m.json?.jobId === 'fence' && m.json?.status === 'printed', 10_000, 'fence printed')
    expect(printedIds(sim)).toEqual(['fence'])
  })

  it('ignores a cancel request that is not valid (logged), and loses nothing: the job prints', async () => {
    const { broker, sim, client, dir } = await parts()
    cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, dir)))
    await online(client)
    await sim.setState('paper-out')
    await client.publish('printers/lobby/jobs', job('kept'))
    expect((await client.outcome('lobby', 'kept')).json).toMatchObject({ code: 'PRINTER_ERROR' })
    for (const bad of ['kept', '{"id":"kept"}', '{"jobId":"no spaces allowed"}', '[]', '']) await client.publish('printers/lobby/cancel', bad)
    // Taken in order: once this cancel is answered, the bad ones were handled.
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'marker' }))
    await client.waitFor((m) => m.json?.jobId === 'marker', 10_000, 'the marker cancel answered')
    await sim.setState('ready')
    await client.waitFor((m) => m.json?.jobId === 'kept' && m.json?.status === 'printed', 10_000, 'kept printed')
    expect(outcomesOf(client, 'kept')).toEqual(['PRINTER_ERROR', 'printed'])
    expect(printedIds(sim)).toEqual(['kept'])
  })

  it('keeps a cancelled job unprinted after a relay SIGKILL and restart', async () => {
    const { broker, sim, client, dir } = await parts()
    const env = relayEnv(broker.mqttUrl, { lobby: sim }, dir)
    const first = cleanup.add(new PartProcess('relay/main.ts', env))
    await online(client)
    await sim.setState('paper-out')
    await client.publish('printers/lobby/jobs', job('waiting'))
    await client.publish('printers/lobby/jobs', job('cancelled'))
    expect((await client.outcome('lobby', 'waiting')).json).toMatchObject({ code: 'PRINTER_ERROR' })
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'cancelled' }))
    await client.publish('printers/lobby/cancel', JSON.stringify({ jobId: 'cancelled-ahead' }))
    await client.waitFor((m) => m.json?.jobId === 'cancelled-ahead' && m.json?.code === 'JOB_CANCELLED', 10_000, 'cancelled-ahead answered')
    expect(outcomesOf(client, 'cancelled')).toEqual(['JOB_CANCELLED'])
    expect(await first.kill('SIGKILL')).toBeNull()
    await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'offline', 10_000, 'offline')
    client.messages.length = 0
    await sim.setState('ready')
    cleanup.add(new PartProcess('relay/main.ts', env))
    await online(client)
    expect((await client.outcome('lobby', 'waiting')).json).toMatchObject({ status: 'printed' })
    // Both cancels were stored: the jobs, sent again, are answered so and not printed.
    await client.publish('printers/lobby/jobs', job('cancelled'))
    await client.publish('printers/lobby/jobs', job('cancelled-ahead'))
    await client.publish('printers/lobby/jobs', job('fence'))
    await client.waitFor((m) => m.json?.jobId === 'fence' && m.json?.status === 'printed', 10_000, 'fence printed')
    expect(outcomesOf(client, 'cancelled').at(-1)).toBe('JOB_CANCELLED')
    expect(outcomesOf(client, 'cancelled-ahead').at(-1)).toBe('JOB_CANCELLED')
    expect(printedIds(sim)).toEqual(['waiting', 'fence'])
  })
})
