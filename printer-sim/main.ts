/**
 * `npm run printer-sim`: a simulated Boca printer. Reads config (env, then flags), starts the simulator
 * (which logs `printer simulator listening` with its port as JSON on stdout), and takes state commands
 * on stdin when stdin is a terminal, a pipe or a file. SIGINT/SIGTERM stop it.
 */
import { createLogger } from '../runtime/logger.ts'
import { configOrExit, runParts, type Part } from '../runtime/lifecycle.ts'
import { BocaSimulator } from './bocaSimulator.ts'
import { parsePrinterSimCommandLine } from './config.ts'
import { SimulatorConsole, stdinCanCarryCommands } from './consoleCommands.ts'

const config = configOrExit(() => parsePrinterSimCommandLine(process.argv.slice(2), process.env))
const logger = createLogger({ name: 'printer-sim' })
const simulator = new BocaSimulator({ config, logger })
const parts: Part[] = [simulator]
if (stdinCanCarryCommands()) {
  parts.push(new SimulatorConsole({ simulator, input: process.stdin, output: process.stderr, logger }))
}
await runParts(parts, logger)
