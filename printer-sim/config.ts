/**
 * Printer simulator configuration: environment variables (one schema, with its defaults), overridden by
 * command-line flags. Flags are turned into the same variables, so both are validated by the same schema.
 */
import { Command } from 'commander'
import { z } from 'zod'
import { booleanSchema, loadConfig, portSchema } from '../runtime/config.ts'
import { pickFields } from '../runtime/configFields.ts'
import { SIMULATOR_STATES, type BocaSimulatorConfig } from './bocaSimulator.ts'

export const printerSimEnvSchema = z.object({
  PRINTER_SIM_HOST: z.string().default('127.0.0.1'),
  PRINTER_SIM_PORT: portSchema.default(9100),
  PRINTER_SIM_STATUS: booleanSchema.default(true),
  PRINTER_SIM_DELAY_MS: z.coerce.number().int('must be a whole number').min(0).default(0),
  PRINTER_SIM_DUMP_DIR: z.string().optional(),
  PRINTER_SIM_STATE: z.enum(SIMULATOR_STATES).default('ready'),
  /** Boca's "ASCII status" mode: status bytes plus 0x30. */
  PRINTER_SIM_ASCII_STATUS: booleanSchema.default(false),
  /** Boca's "delayed status" mode: ACK only after the last ticket the printer holds. */
  PRINTER_SIM_DELAYED_STATUS: booleanSchema.default(false),
  ...pickFields('LOG_FORMAT')
})

type Env = Record<string, string | undefined>

/** The simulator's config from the environment alone. */
export function loadPrinterSimConfig (env: Env): Readonly<BocaSimulatorConfig> {
  const vars = loadConfig('printer-sim', printerSimEnvSchema, env)
  return Object.freeze({
    host: vars.PRINTER_SIM_HOST,
    port: vars.PRINTER_SIM_PORT,
    statusReporting: vars.PRINTER_SIM_STATUS,
    printDelayMs: vars.PRINTER_SIM_DELAY_MS,
    dumpDir: vars.PRINTER_SIM_DUMP_DIR,
    initialState: vars.PRINTER_SIM_STATE,
    statusEncoding: vars.PRINTER_SIM_ASCII_STATUS ? 'ascii' : 'binary',
    delayedStatus: vars.PRINTER_SIM_DELAYED_STATUS
  })
}

interface PrinterSimFlags {
  host?: string
  port?: string
  status: boolean
  delayMs?: string
  dumpDir?: string
  state?: string
  asciiStatus?: boolean
  delayedStatus?: boolean
}

/**
 * The simulator's config from `argv` (user arguments, without `node` and the script) over `env`.
 * Commander prints `--help` and usage errors and exits on its own.
 */
export function parsePrinterSimCommandLine (argv: string[], env: Env): Readonly<BocaSimulatorConfig> {
  const program = new Command('printer-sim')
    .description('A simulated Boca ticket printer on raw TCP (port 9100 by default). ' +
      'Type a state on stdin to change it; `help` lists the commands.')
    .option('--host <host>', 'address to listen on (PRINTER_SIM_HOST, default 127.0.0.1)')
    .option('--port <port>', 'TCP port, 0 for any free one (PRINTER_SIM_PORT, default 9100)')
    .option('--no-status', 'no status bytes back: no ACK, no <S1> answer (PRINTER_SIM_STATUS=false)')
    .option('--delay-ms <ms>', 'time to print each ticket before its ACK (PRINTER_SIM_DELAY_MS, default 0)')
    .option('--dump-dir <dir>', 'write each ticket as <n>.bin, <n>.txt and <n>.png there (PRINTER_SIM_DUMP_DIR)')
    .option('--state <state>', `initial state: ${SIMULATOR_STATES.join(', ')} (PRINTER_SIM_STATE, default ready)`)
    .option('--ascii-status', 'Boca\'s "ASCII status" mode: every status byte plus 0x30 (PRINTER_SIM_ASCII_STATUS=true)')
    .option('--delayed-status', 'Boca\'s "delayed status" mode: ACK only after the last ticket it holds (PRINTER_SIM_DELAYED_STATUS=true)')
    .allowExcessArguments(false)
  program.parse(argv, { from: 'user' })
  const flags = program.opts<PrinterSimFlags>()
  const overrides: Env = {
    PRINTER_SIM_HOST: flags.host,
    PRINTER_SIM_PORT: flags.port,
    PRINTER_SIM_STATUS: program.getOptionValueSource('status') === 'cli' ? String(flags.status) : undefined,
    PRINTER_SIM_DELAY_MS: flags.delayMs,
    PRINTER_SIM_DUMP_DIR: flags.dumpDir,
    PRINTER_SIM_STATE: flags.state,
    PRINTER_SIM_ASCII_STATUS: flags.asciiStatus === true ? 'true' : undefined,
    PRINTER_SIM_DELAYED_STATUS: flags.delayedStatus === true ? 'true' : undefined
  }
  const merged: Env = { ...env }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) merged[key] = value
  return loadPrinterSimConfig(merged)
}
