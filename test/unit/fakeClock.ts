/**
 * A relay Clock (relay/clock.ts) whose time moves only when a test says so: `advance(ms)` runs every timer that
 * falls due, in order, each at its own time. The wall clock moves with the monotonic one unless a test steps it.
 */
import type { Clock, TimerHandle } from '../../relay/clock.ts'

interface Timer {
  at: number
  run: () => void
  order: number
}

export class FakeClock implements Clock {
  wall: number
  mono = 0
  private timers: Timer[] = []
  private made = 0

  constructor (wall = Date.parse('2026-11-30T10:00:00Z')) {
    this.wall = wall
  }

  now (): number {
    return this.wall
  }

  monotonic (): number {
    return this.mono
  }

  setTimeout (run: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.mono + Math.max(0, ms), run, order: this.made++ }
    this.timers.push(timer)
    return timer
  }

  clearTimeout (timer: TimerHandle): void {
    this.timers = this.timers.filter((t) => t !== timer)
  }

  /** The delays of the timers waiting, from now, soonest first. */
  get waiting (): number[] {
    return this.timers.map((t) => t.at - this.mono).sort((a, b) => a - b)
  }

  /** Moves time on by `ms`, running each timer due on the way at its own time (those it sets too). */
  advance (ms: number): void {
    const end = this.mono + ms
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.order - b.order)[0]
      if (due === undefined) break
      this.timers = this.timers.filter((t) => t !== due)
      this.step(due.at)
      due.run()
    }
    this.step(end)
  }

  private step (to: number): void {
    this.wall += to - this.mono
    this.mono = to
  }
}
