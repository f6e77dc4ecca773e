/**
 * `npm start`'s last printed tickets (printer-sim/printedTickets.ts): what the simulator printed, the newest last,
 * at most `keep` of them, from its `ticket` events (emitted here as the simulator emits them; no socket).
 */
import { describe, expect, it } from 'vitest'
import { BocaSimulator, type PrintedTicket } from '../../printer-sim/bocaSimulator.ts'
import { PrintedTickets } from '../../printer-sim/printedTickets.ts'
import { silentLogger } from '../../runtime/logger.ts'

function printed (number: number): PrintedTicket {
  return { number, bytes: Buffer.from(`<RC1,1>${number}<p>`), terminator: 'p', text: `${number}[cut]`, at: new Date(Date.UTC(2026, 2, 14, 8, 0, number)), connectionId: 1 }
}

describe('the simulator\'s last tickets', () => {
  it('has none before the first, then the newest; keeps the last `keep`; stops listening when stopped', async () => {
    const simulator = new BocaSimulator({ config: { host: '127.0.0.1', port: 0 }, logger: silentLogger() })
    const tickets = new PrintedTickets({ simulator, printerId: 'demo', keep: 3, logger: silentLogger() })
    await tickets.start()
    expect(tickets.latest()).toBeUndefined()
    simulator.emit('ticket', printed(1))
    expect(tickets.latest()).toEqual({ n: 1, printerId: 'demo', at: '2026-03-14T08:00:01.000Z' })
    for (let n = 2; n <= 5; n++) simulator.emit('ticket', printed(n))
    expect(tickets.latest()?.n).toBe(5)
    expect([1, 2, 3, 4, 5].map((n) => tickets.get(n)?.number)).toEqual([undefined, undefined, 3, 4, 5])
    await tickets.stop()
    simulator.emit('ticket', printed(6))
    expect(tickets.latest()).toBeUndefined()
    expect(simulator.listenerCount('ticket')).toBe(0)
  })
})
