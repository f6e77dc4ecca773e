/**
 * `npm run printer-sim`: a simulated Boca printer. Reads config (env, then flags), starts the simulator
 * (which logs `printer simulator listening` with its port as JSON on stdout), and takes state commands
 * on stdin when stdin is a terminal, a pipe or a file. SIGINT/SIGTERM stop it.
 */
import { createLogger } from '../runtime/logger.ts'
import { exitWithError, runParts, type Part } from '../runtime/lifecycle.ts'
import { BocaSimulator } from './bocaSimulator.ts'
import { parsePrinterSimCommandLine } from './config.ts'
import { SimulatorConsole, stdinCanCarryCommands } from './consoleCommands.ts'

let config
try {
  config = parsePrinterSimCommandLine(process.argv.slice(2), process.env)
} catch (error) {
  exitWithError(error)
}
const logger = createLogger({ name: 'printer-sim' })
const simulator = new BocaSimulator({ config, logger })
const parts: Part[] = [simulator]
if (stdinCanCarryCommands()) {
  parts.push(new SimulatorConsole({ simulator, input: process.stdin, output: process.stderr, logger }))
}
await runParts(parts, logger)
