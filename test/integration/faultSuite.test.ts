/**
 * The fault suite: the soak scenario (soak/faultScenario.ts) with small numbers. Jobs with distinct ids
 * while the relay is SIGKILLed, the broker restarted (SIGTERM) and killed (SIGKILL) and the printer drops connections and runs out of
 * paper: every id prints exactly once or is reported UNCERTAIN (no more of those than kills and drops),
 * and nothing is lost.
 */
import { describe, expect, it } from 'vitest'
import { runFaultScenario } from '../../harness/faultScenario.ts'

describe('fault suite', () => {
  for (const [persistence, brokerRestarts] of [['level', 1], ['redis', 1]] as const) {
    it(`prints every job once or says UNCERTAIN, through ${brokerRestarts} broker restart(s), a broker SIGKILL, relay kills, drops and paper outs (${persistence} persistence)`, async () => {
      const report = await runFaultScenario({
        persistence,
        jobs: 60,
        publishEveryMs: 25,
        relayKills: 2,
        brokerRestarts,
        brokerKills: 1,
        connectionDrops: 2,
        paperOuts: 1,
        settleMs: 45_000
      })
      console.log(`fault suite (${persistence}): ${report.jobs} jobs, ${report.relayKills} relay kills, ${report.brokerRestarts} broker restarts, ${report.brokerKills} broker kills, ` +
        `${report.connectionDrops} drops, ${report.paperOuts} paper outs: ${report.printedOnce} printed once, ${report.uncertain.length} UNCERTAIN, ` +
        `${report.duplicates.length} duplicates, ${report.lost.length} lost, ${report.unanswered.length} unanswered (${report.durationMs} ms)`)
      expect(report.relayKills).toBe(2)
      expect(report.brokerRestarts).toBe(brokerRestarts)
      expect(report.brokerKills).toBe(1)
      expect(report.duplicates).toEqual([])
      expect(report.lost).toEqual([])
      expect(report.unanswered).toEqual([])
      expect(report.otherErrors).toEqual({})
      expect(report.uncertain.length).toBeLessThanOrEqual(report.relayKills + report.connectionDrops)
      expect(report.printedOnce + report.uncertain.length).toBe(report.jobs)
      expect(report.ok).toBe(true)
    }, 120_000)
  }
})
