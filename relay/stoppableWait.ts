/**
 * The waits of a part that must end them when it stops: a sleep on its clock, or a wait for an event. One wait at
 * a time; `wake()` ends it at once (its promise resolves, it does not reject).
 */
import { sleep, type Clock } from './clock.ts'

export class StoppableWait {
  private readonly clock: Clock
  private ending: (() => void) | undefined

  constructor (clock: Clock) {
    this.clock = clock
  }

  /** Ends the current wait, if any. */
  wake (): void {
    this.ending?.()
  }

  sleep (ms: number): Promise<void> {
    const wait = sleep(this.clock, ms)
    return this.until(wait.done, wait.cancel)
  }

  /** Waits for `event` (or `wake()`); `cancel` undoes what the wait set up. */
  until (event: Promise<void>, cancel: () => void = () => {}): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.ending === done) this.ending = undefined
        cancel()
        resolve()
      }
      this.ending = done
      void event.then(done)
    })
  }
}
