/**
 * The three shapes of load every system is measured under, whatever carries the jobs (MQTT for Printwire,
 * Socket.IO for the seed): a window of jobs in flight, one job at a time, and an open loop at a fixed rate.
 * A `JobSender` sends one job and resolves once its answer is back (true: printed), timing it itself.
 */
import { nowMs, summarize, type LatencySummary } from './stats.ts'

export interface LoadResult {
  completed: number
  failed: number
  seconds: number
  perSecond: number
  latency: LatencySummary
}

export interface JobSender {
  send(): Promise<boolean>
  /** Publish → result, in ms, of the jobs that printed. */
  readonly latencies: number[]
  readonly failed: number
  close(): Promise<void>
}

function result (sender: JobSender, started: number): LoadResult {
  const seconds = (nowMs() - started) / 1000
  const completed = sender.latencies.length
  return { completed, failed: sender.failed, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(completed / seconds), latency: summarize(sender.latencies) }
}

/** Runs `shape` on a sender, and closes it whatever happens. */
async function using (open: () => Promise<JobSender>, shape: (sender: JobSender) => Promise<void>): Promise<LoadResult> {
  const sender = await open()
  try {
    const started = nowMs()
    await shape(sender)
    return result(sender, started)
  } finally {
    await sender.close()
  }
}

/** `jobs` jobs with `window` in flight at all times; jobs/s from the first send to the last answer. */
export function windowed (open: () => Promise<JobSender>, jobs: number, window: number): Promise<LoadResult> {
  return using(open, (sender) => new Promise<void>((resolve) => {
    let sent = 0
    let answered = 0
    const pump = (): void => {
      while (sent < jobs && sent - answered < window) {
        sent++
        void sender.send().then(() => {
          answered++
          if (answered >= jobs) resolve()
          else pump()
        })
      }
    }
    pump()
  }))
}

/** One job at a time: each sent once the previous one's answer is back (an idle system). */
export function oneAtATime (open: () => Promise<JobSender>, jobs: number): Promise<LoadResult> {
  return using(open, async (sender) => {
    for (let i = 0; i < jobs; i++) await sender.send()
  })
}

/** Jobs offered at `rate` per second for `seconds`, whatever the answers do. */
export function openLoop (open: () => Promise<JobSender>, rate: number, seconds: number): Promise<LoadResult> {
  return using(open, async (sender) => {
    const total = Math.round(rate * seconds)
    const interval = 1000 / rate
    const started = nowMs()
    const answers: Array<Promise<boolean>> = []
    for (let i = 0; i < total; i++) {
      const wait = started + i * interval - nowMs()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      answers.push(sender.send())
    }
    await Promise.all(answers)
  })
}
