/**
 * Load on the seed architecture (seedServer.ts + seedRelay.ts), mirroring mqttLoad.ts's e2e functions so
 * that the two are measured alike: one client connection, jobs sent to the printers in turn, each timed
 * from its `print` emit to its `result`; `error` results counted in `failed`, not in `perSecond`.
 * A window keeps a fixed number of jobs in flight; an open loop offers a fixed rate instead.
 */
import { io, type Socket } from 'socket.io-client'
import { oneAtATime, openLoop, windowed, type JobSender, type LoadResult } from '../harness/loadShapes.ts'
import { nowMs } from '../harness/stats.ts'
import type { SeedFromServer, SeedToServer } from './seedServer.ts'

export type { LoadResult }

interface SeedOptions {
  /** The seed server, e.g. `http://127.0.0.1:40123`. */
  url: string
  printers: string[]
  /** The job's bytes: sent as a string (utf8), as the seed's web page does (see seedServer.ts). */
  data: Buffer
}

/** Emits jobs and matches results by id; one connection, as a box-office server would. */
class SeedJobClient implements JobSender {
  private readonly pending = new Map<string, { at: number, done: (ok: boolean) => void }>()
  private next = 0
  private readonly data: string
  readonly latencies: number[] = []
  failed = 0

  private constructor (private readonly socket: Socket<SeedFromServer, SeedToServer>, private readonly options: SeedOptions) {
    this.data = options.data.toString('utf8')
    socket.on('result', (result) => {
      const waiting = this.pending.get(result.jobId)
      if (waiting === undefined) return
      this.pending.delete(result.jobId)
      const ok = result.status === 'printed'
      if (ok) this.latencies.push(nowMs() - waiting.at)
      else this.failed++
      waiting.done(ok)
    })
    // A lost server connection ends every job in flight: the seed keeps nothing to answer them later.
    socket.on('disconnect', () => {
      for (const [id, waiting] of this.pending) {
        this.pending.delete(id)
        this.failed++
        waiting.done(false)
      }
    })
  }

  static async open (options: SeedOptions): Promise<SeedJobClient> {
    // `transports: ['websocket']`: a WebSocket from the start. The default (HTTP long-polling, then an
    // upgrade) would time the first jobs over polling, which is unfair to the seed; a browser app that
    // cares about latency sets the same option.
    const socket: Socket<SeedFromServer, SeedToServer> = io(options.url, { transports: ['websocket'], reconnection: false, forceNew: true })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => { socket.off('connect_error'); resolve() })
      socket.once('connect_error', (error) => { socket.disconnect(); reject(error) })
    })
    return new SeedJobClient(socket, options)
  }

  /** Emits the next job (printers in turn); resolves when its result arrives: true when printed. */
  send (): Promise<boolean> {
    const n = this.next++
    const printerId = this.options.printers[n % this.options.printers.length] as string
    const jobId = `s${process.pid}-${n}`
    return new Promise((resolve) => {
      this.pending.set(jobId, { at: nowMs(), done: resolve })
      this.socket.emit('print', { jobId, printerId, data: this.data })
    })
  }

  async close (): Promise<void> {
    this.socket.disconnect()
  }
}

/** `jobs` jobs with `window` in flight at all times; jobs/s from the first emit to the last result. */
export const seedWindowed = (options: SeedOptions & { jobs: number, window: number }): Promise<LoadResult> => windowed(() => SeedJobClient.open(options), options.jobs, options.window)

/** One job at a time: each emitted once the previous one's result is back (an idle system). */
export const seedIdle = (options: SeedOptions & { jobs: number }): Promise<LoadResult> => oneAtATime(() => SeedJobClient.open(options), options.jobs)

/** Jobs offered at `rate` per second for `seconds`, whatever the results do (an open loop). */
export const seedOpenLoop = (options: SeedOptions & { rate: number, seconds: number }): Promise<LoadResult> => openLoop(() => SeedJobClient.open(options), options.rate, options.seconds)
