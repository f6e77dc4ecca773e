/**
 * Scenario 5: the same load with Debian's Mosquitto 2.0 as the broker (the repo's mosquitto.conf, the same
 * users and ACLs), against the embedded Aedes broker, each with its own ceiling, in the same run.
 */
import { startMosquittoBroker } from '../harness/parts.ts'
import type { Scenario } from '../harness/scenario.ts'
import { ratio, type Row } from '../harness/stats.ts'
import { aedesWith, measurePrintwire, TICKET_BYTES, WINDOW } from './throughput.ts'

export const mosquitto: Scenario = {
  name: 'mosquitto',
  async run (ctx) {
    const rows: Row[] = []
    for (const printers of [1, 20]) {
      const jobs = ctx.quick ? 50 : printers === 1 ? 4000 : 8000
      const measured: Record<string, Awaited<ReturnType<typeof measurePrintwire>>> = {}
      for (const [name, start] of [['Aedes (embedded)', aedesWith()], ['Mosquitto 2.0', startMosquittoBroker]] as const) {
        ctx.progress(`mosquitto: ${name}, ${printers} printer(s)`)
        measured[name] = await measurePrintwire(printers, jobs, start)
      }
      const aedes = measured['Aedes (embedded)']
      for (const [name, m] of Object.entries(measured)) {
        rows.push({
          broker: name,
          printers,
          'e2e jobs/s': m.e2e.perSecond,
          'e2e p50 ms': m.e2e.latency.p50,
          'ceiling msg/s': m.ceiling.perSecond,
          'e2e / ceiling': ratio(m.e2e.perSecond, m.ceiling.perSecond),
          'e2e / Aedes e2e': aedes === undefined ? '' : ratio(m.e2e.perSecond, aedes.e2e.perSecond)
        })
      }
    }
    return {
      name: 'mosquitto',
      title: 'Mosquitto as the broker, against the embedded Aedes broker',
      rows,
      notes: [
        `As "throughput": ${TICKET_BYTES}-byte tickets, ${WINDOW} in flight, one relay process with its durable spool, Boca-like printers. Both brokers with users and ACLs (AUTH_FILE; Mosquitto's password_file and acl_file from \`printwire mosquitto-export\`).`,
        'Aedes: PERSISTENCE=memory. Mosquitto: the repo\'s mosquitto.conf (persistence on, saved every 30 s, so in memory between saves: the same durability as PERSISTENCE=memory during a run).'
      ]
    }
  }
}
