/**
 * Makes Aedes emit published messages in the order it numbered them.
 *
 * Aedes numbers each message (brokerCounter) when `publish` starts, then runs its steps (store a retained
 * message, queue it for offline sessions, emit it) asynchronously; several messages run these steps at once.
 * With an asynchronous store (LevelDB's thread pool) a later message can finish first. Each client then drops
 * any message numbered below the last one it received (Aedes' duplicate filter, lib/client.js `dedupe`), so a
 * message overtaken this way is silently lost to every persistent subscriber. Running the publishes one after
 * another keeps the numbering and the delivery order the same. It costs throughput (one message's store
 * operations at a time), which the benchmarks measure. Used with level persistence only (see mqttBroker.ts).
 */
import type { Aedes } from 'aedes'

type PublishArgs = Parameters<Aedes['publish']>

export function serializePublishes (aedes: Aedes): void {
  const publish = aedes.publish.bind(aedes) as (...args: unknown[]) => void
  const waiting: Array<() => void> = []
  let running = false

  const next = (): void => {
    const start = waiting.shift()
    if (start === undefined) {
      running = false
      return
    }
    running = true
    start()
  }

  aedes.publish = ((packet: PublishArgs[0], client?: unknown, done?: unknown) => {
    const callback = (typeof client === 'function' ? client : done) as ((error?: Error | null) => void) | undefined
    const sender = typeof client === 'function' ? null : client
    waiting.push(() => {
      publish(packet, sender, (error?: Error | null) => {
        // The next message may start before this one's callback work (the PUBACK) is done.
        setImmediate(next)
        callback?.(error)
      })
    })
    if (!running) next()
  }) as Aedes['publish']
}
