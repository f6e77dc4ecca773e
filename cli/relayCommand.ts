/**
 * `printwire relay` (cli/partCommands.ts has the other parts): in a file of its own because it is also the one
 * command of the relay-only bundle (cli/relayOnly.ts, deploy/packRelay.ts), which esbuild makes from what this
 * file reaches: the relay and nothing of the broker, web server or simulator (no native module but LevelDB's).
 */
import type { Command } from 'commander'
import { CONFIG_FILE_VARIABLE } from '../runtime/configFile.ts'

export type Env = Record<string, string | undefined>

export const configHelp = `a JSON file of settings named as the environment variables; a variable set in the environment overrides it (default: ${CONFIG_FILE_VARIABLE})`

/** `printwire relay`; also the one command of the relay-only bundle (cli/relayOnly.ts). */
export function addRelayCommand (program: Command, env: Env): void {
  program.command('relay')
    .description('run the relay (MQTT_URL, PRINTERS, RELAY_ID, STATE_DIR, ...) until SIGTERM/SIGINT')
    .option('--config <file>', configHelp)
    .action(async (opts: { config?: string }) => {
      const { runRelay } = await import('../relay/runRelay.ts')
      await runRelay(env, opts.config)
    })
}
