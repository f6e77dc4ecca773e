/**
 * The broker's time as the relay learns it from `server/time` (relay/brokerClock.ts), with clocks the test
 * sets: the relay's wall clock may be wrong or step, the monotonic clock only advances; fake timers only for
 * the start-up wait.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { BrokerClock } from '../../relay/brokerClock.ts'
import { systemClock, type Clock } from '../../relay/clock.ts'
import { silentLogger } from '../../runtime/logger.ts'

const HOUR = 3_600_000
const BROKER_NOW = Date.parse('2026-11-21T19:00:00.000Z')

/** A clock the test moves: `wall` (can jump anywhere) and `mono` (only forward). */
function testClock (wall: number): Clock & { wall: number, mono: number } {
  const clock = { ...systemClock, wall, mono: 1000, now: () => clock.wall, monotonic: () => clock.mono }
  return clock
}

afterEach(() => { vi.useRealTimers() })

describe('broker clock', () => {
  it('tells the broker\'s time from a server/time sample and the monotonic time since, whatever the relay\'s wall clock does', async () => {
    const clock = testClock(BROKER_NOW + 2 * HOUR)
    const broker = new BrokerClock({ clock, logger: silentLogger(), waitMs: 5000 })
    await broker.start()
    broker.observe(new Date(BROKER_NOW).toISOString())
    expect(broker.known).toBe(true)
    expect(broker.now()).toBe(BROKER_NOW)
    clock.mono += 30_000
    clock.wall -= 5 * HOUR // the relay's clock steps back
    expect(broker.now()).toBe(BROKER_NOW + 30_000)
    // A later sample replaces the earlier one.
    broker.observe(new Date(BROKER_NOW + 31_000).toISOString())
    clock.mono += 1000
    expect(broker.now()).toBe(BROKER_NOW + 32_000)
    await broker.stop()
  })

  it('ignores a server/time that is not a time', async () => {
    const clock = testClock(BROKER_NOW)
    const broker = new BrokerClock({ clock, logger: silentLogger(), waitMs: 5000 })
    await broker.start()
    broker.observe('not a time')
    broker.observe('')
    expect(broker.known).toBe(false)
    expect(broker.settled).toBe(false)
    await broker.stop()
  })

  it('holds expiry decisions until the broker\'s time comes, or SERVER_TIME_WAIT_MS, then uses the relay\'s own clock until a sample comes', async () => {
    vi.useFakeTimers()
    const clock = testClock(BROKER_NOW - 2 * HOUR)
    const broker = new BrokerClock({ clock, logger: silentLogger(), waitMs: 5000 })
    await broker.start()
    let ready = false
    void broker.ready().then(() => { ready = true })
    await vi.advanceTimersByTimeAsync(4999)
    expect(ready).toBe(false)
    expect(broker.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(ready).toBe(true)
    expect(broker.settled).toBe(true)
    expect(broker.known).toBe(false)
    expect(broker.now()).toBe(BROKER_NOW - 2 * HOUR)
    broker.observe(new Date(BROKER_NOW).toISOString())
    expect(broker.now()).toBe(BROKER_NOW)
    await broker.stop()
  })

  it('is ready at once when a sample comes before the wait is over', async () => {
    vi.useFakeTimers()
    const broker = new BrokerClock({ clock: testClock(BROKER_NOW), logger: silentLogger(), waitMs: 5000 })
    await broker.start()
    const ready = broker.ready()
    broker.observe(new Date(BROKER_NOW).toISOString())
    await ready
    expect(broker.settled).toBe(true)
    await broker.stop()
  })
})
