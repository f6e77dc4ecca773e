/** What every benchmark scenario is: a function of the run's settings that measures and returns a table. */
import type { Cleanup } from './parts.ts'
import type { ScenarioResult } from './report.ts'

export interface ScenarioContext {
  /** A smoke run (CI): tiny numbers, only to show that the scenario works; its figures are not results. */
  quick: boolean
  /** Everything the scenario starts is registered here and stopped after it. */
  cleanup: Cleanup
  /** Progress for the person watching (stderr). */
  progress: (line: string) => void
}

export interface Scenario {
  name: string
  run(ctx: ScenarioContext): Promise<ScenarioResult>
}
