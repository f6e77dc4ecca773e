/**
 * The simulated Boca printer as an entry point runs it (`npm run printer-sim`, `printwire printer-sim`): config
 * (env, then flags; `--help` lists them), the simulator (which logs `printer simulator listening` with its
 * port), and state commands on stdin when stdin is a terminal, a pipe or a file. SIGINT/SIGTERM stop it.
 */
import { loadConfig } from '../runtime/config.ts'
import { configOrExit, runParts, type Part } from '../runtime/lifecycle.ts'
import { createLogger } from '../runtime/logger.ts'
import { BocaSimulator } from './bocaSimulator.ts'
import { parsePrinterSimCommandLine, printerSimEnvSchema } from './config.ts'
import { SimulatorConsole, stdinCanCarryCommands } from './consoleCommands.ts'

export async function runPrinterSim (argv: string[], env: Record<string, string | undefined>): Promise<void> {
  const config = configOrExit(() => parsePrinterSimCommandLine(argv, env))
  const { LOG_FORMAT } = configOrExit(() => loadConfig('printer-sim', printerSimEnvSchema.pick({ LOG_FORMAT: true }), env))
  const logger = createLogger({ name: 'printer-sim', format: LOG_FORMAT, level: env.LOG_LEVEL })
  const simulator = new BocaSimulator({ config, logger })
  const parts: Part[] = [simulator]
  if (stdinCanCarryCommands()) {
    parts.push(new SimulatorConsole({ simulator, input: process.stdin, output: process.stderr, logger }))
  }
  await runParts(parts, logger)
}
