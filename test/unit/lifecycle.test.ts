/**
 * Start-up of an entry file's parts (runtime/lifecycle.ts): a part that fails to start is stopped, and so is
 * every part started before it, in reverse order; the error is not swallowed.
 */
import { describe, expect, it } from 'vitest'
import { PartStack, startParts, type Part } from '../../runtime/lifecycle.ts'
import { silentLogger } from '../../runtime/logger.ts'

/** A part that records what happens to it; `failStart` makes its start throw after it has begun. */
function part (name: string, events: string[], options: { failStart?: boolean, failStop?: boolean } = {}): Part {
  return {
    start: async () => {
      events.push(`start ${name}`)
      if (options.failStart === true) throw Object.assign(new Error(`${name} could not start`), { code: 'EADDRINUSE' })
    },
    stop: async () => {
      events.push(`stop ${name}`)
      if (options.failStop === true) throw new Error(`${name} could not stop`)
    }
  }
}

describe('starting parts', () => {
  it('starts every part in order and returns them', async () => {
    const events: string[] = []
    const started = await startParts([part('broker', events), part('relay', events)], silentLogger())
    expect(started).toHaveLength(2)
    expect(events).toEqual(['start broker', 'start relay'])
  })

  it('stops the part that failed and every part before it, in reverse order, and throws its error', async () => {
    const events: string[] = []
    const parts = [part('printer', events), part('broker', events, { failStop: true }), part('relay', events, { failStart: true }), part('never', events)]
    await expect(startParts(parts, silentLogger())).rejects.toMatchObject({ code: 'EADDRINUSE', message: 'relay could not start' })
    expect(events).toEqual(['start printer', 'start broker', 'start relay', 'stop relay', 'stop broker', 'stop printer'])
  })
})

describe('a part built from parts (PartStack)', () => {
  it('stops what it started and registered in reverse order, once', async () => {
    const events: string[] = []
    const stack = new PartStack({ logger: silentLogger() })
    stack.onStop('store', () => { events.push('close store') })
    await stack.start('core', part('core', events))
    await stack.start('listeners', part('listeners', events))
    await stack.stop()
    await stack.stop()
    expect(events).toEqual(['start core', 'start listeners', 'stop listeners', 'stop core', 'close store'])
  })

  it('stops a sub-part whose start failed, throws its error, and leaves the rest to stop()', async () => {
    const events: string[] = []
    const stack = new PartStack({ logger: silentLogger() })
    stack.onStop('store', () => { events.push('close store') })
    await stack.start('core', part('core', events, { failStop: true }))
    await expect(stack.start('listeners', part('listeners', events, { failStart: true }))).rejects.toThrow('listeners could not start')
    expect(events).toEqual(['start core', 'start listeners', 'stop listeners'])
    await stack.stop()
    expect(events).toEqual(['start core', 'start listeners', 'stop listeners', 'stop core', 'close store'])
  })

  it('build(): a build that throws part-way stops what it had started, and throws', async () => {
    const events: string[] = []
    const stack = new PartStack({ logger: silentLogger() })
    await expect(stack.build(async () => {
      stack.onStop('store', () => { events.push('close store') })
      await stack.start('core', part('core', events))
      throw new Error('no listener')
    })).rejects.toThrow('no listener')
    expect(events).toEqual(['start core', 'stop core', 'close store'])
  })
})
