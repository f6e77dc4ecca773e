/**
 * Operator commands for the printer simulator, one per line on stdin: change the state, show it, get help.
 * Replies go to a separate stream (stderr in main.ts), so stdout stays JSON log lines.
 */
import fs from 'node:fs'
import readline from 'node:readline'
import type { Logger } from '../runtime/logger.ts'
import { SIMULATOR_STATES, type BocaSimulator, type SimulatorState } from './bocaSimulator.ts'

const HELP = [
  'commands:',
  '  ready        paper loaded, printing (answers <S1> with 0x11)',
  '  paper-out    out of paper (0x10): tickets are not printed',
  '  paper-jam    paper jam (0x18): tickets are not printed',
  '  cutter-jam   cutter jam (0x1D): tickets are not printed',
  '  offline      switched off: connections refused until `ready`',
  '  hang         accepts connections but never reads or answers',
  '  drop [n]     reset the next n connections (default 1) as their job arrives',
  '  status       current state and tickets printed',
  '  help         this list'
].join('\n')

function isSimulatorState (word: string): word is SimulatorState {
  return (SIMULATOR_STATES as readonly string[]).includes(word)
}

/** Runs one command line and returns the reply for the operator (never throws). */
export async function runConsoleCommand (simulator: BocaSimulator, line: string): Promise<string> {
  const command = line.trim()
  if (command === '') return ''
  if (command === 'help') return HELP
  if (command === 'status') {
    return `state ${simulator.state}, ${simulator.tickets.length} ticket(s) printed, ` +
      `${simulator.rejectedTickets} not printed, ${simulator.connections} connection(s), port ${simulator.port}`
  }
  const drop = /^drop(?:\s+(\d+))?$/.exec(command)
  if (drop !== null) {
    const count = Number(drop[1] ?? 1)
    simulator.dropConnections(count)
    return `the next ${count} connection(s) will be reset mid-job`
  }
  if (isSimulatorState(command)) {
    try {
      await simulator.setState(command)
      return `state ${simulator.state}`
    } catch (error) {
      return `could not switch to ${command}: ${error instanceof Error ? error.message : String(error)}`
    }
  }
  return `unknown command "${command}"; type help for the list`
}

/** True when stdin can carry commands: a terminal, a pipe or socket, or a file (not /dev/null or a closed fd). */
export function stdinCanCarryCommands (): boolean {
  try {
    const stats = fs.fstatSync(0)
    return process.stdin.isTTY === true || stats.isFIFO() || stats.isSocket() || stats.isFile()
  } catch {
    return false
  }
}

export interface ConsoleDeps {
  simulator: BocaSimulator
  input: NodeJS.ReadableStream
  output: NodeJS.WritableStream
  logger: Logger
}

/** Reads commands line by line while started; the end of the input only ends the console, not the simulator. */
export class SimulatorConsole {
  private readonly deps: ConsoleDeps
  private lines: readline.Interface | undefined

  constructor (deps: ConsoleDeps) {
    this.deps = deps
  }

  async start (): Promise<void> {
    const { input, output, simulator, logger } = this.deps
    input.on('error', (error: Error) => { logger.warn({ err: error }, 'console input error') })
    const lines = readline.createInterface({ input, terminal: false })
    this.lines = lines
    let queue = Promise.resolve()
    lines.on('line', (line) => {
      queue = queue
        .then(async () => {
          const reply = await runConsoleCommand(simulator, line)
          if (reply !== '') output.write(reply + '\n')
        })
        .catch((error: unknown) => { logger.error({ err: error }, 'console command failed') })
    })
    lines.on('close', () => { logger.debug('console input closed') })
  }

  async stop (): Promise<void> {
    this.lines?.close()
    this.lines = undefined
  }
}
