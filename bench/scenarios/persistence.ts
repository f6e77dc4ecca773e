/**
 * What the broker's own durability costs: the same e2e load and ceiling with PERSISTENCE=memory and with
 * PERSISTENCE=level (embedded LevelDB). Both acknowledge a QoS 1 message only once it is stored
 * (broker/aedes/durablePublish.ts); with level that means LevelDB has written it, so the difference is the store.
 */
import type { Scenario } from '../harness/scenario.ts'
import { ratio, type Row } from '../harness/stats.ts'
import { aedesWith, measurePrintwire } from './throughput.ts'

export const persistence: Scenario = {
  name: 'persistence',
  async run (ctx) {
    const rows: Row[] = []
    for (const printers of [1, 20]) {
      const jobs = ctx.quick ? 50 : printers === 1 ? 3000 : 6000
      const memory = await measurePrintwire(printers, jobs, aedesWith({ PERSISTENCE: 'memory' }))
      ctx.progress(`persistence: level, ${printers} printer(s)`)
      const level = await measurePrintwire(printers, jobs, aedesWith({ PERSISTENCE: 'level' }))
      for (const [name, m] of [['memory', memory], ['level (PUBACK after the store)', level]] as const) {
        rows.push({
          PERSISTENCE: name,
          printers,
          'e2e jobs/s': m.e2e.perSecond,
          'ceiling msg/s': m.ceiling.perSecond,
          'e2e / memory e2e': ratio(m.e2e.perSecond, memory.e2e.perSecond),
          'ceiling / memory ceiling': ratio(m.ceiling.perSecond, memory.ceiling.perSecond)
        })
      }
    }
    return {
      name: 'persistence',
      title: 'The broker\'s persistence: memory against LevelDB',
      rows,
      notes: ['As "throughput". Both acknowledge a QoS 1 publish only once it is stored for every session it matches (broker/aedes/durablePublish.ts). level: sessions, offline queues and retained messages in LevelDB under DATA_DIR (not fsynced per message: LevelDB\'s write-ahead log, so a broker process crash keeps them, a power cut may not).']
    }
  }
}
