/**
 * `printwire relay`, `broker`, `web`, `printer-sim`: run that part in this process (SPEC "Operations"), as
 * `npm run relay` etc. do, but with no npm or tsx process in between: SIGTERM from systemd, Docker or a shell
 * reaches the part's own handler (runtime/lifecycle.ts), which stops it and exits. Each part is loaded only
 * when its command runs, so `printwire print` does not load the broker.
 */
import type { Command } from 'commander'
import { addRelayCommand, configHelp, type Env } from './relayCommand.ts'

export function addPartCommands (program: Command, env: Env): void {
  addRelayCommand(program, env)
  program.command('broker')
    .description('run the embedded broker with the web page (PORT, MQTT_PORT, AUTH_FILE, ...) until SIGTERM/SIGINT')
    .option('--config <file>', configHelp)
    .action(async (opts: { config?: string }) => {
      const { runBroker } = await import('../broker/runBroker.ts')
      await runBroker(env, opts.config)
    })
  program.command('web')
    .description('run the web server in front of an external broker such as Mosquitto (MQTT_URL, BROKER_WS_URL, ...) until SIGTERM/SIGINT')
    .option('--config <file>', configHelp)
    .action(async (opts: { config?: string }) => {
      const { runWebServer } = await import('../web/server/runWebServer.ts')
      await runWebServer(env, opts.config)
    })
  program.command('printer-sim')
    .description('run a simulated Boca printer (its own flags: printwire printer-sim --help)')
    .helpOption(false)
    .allowUnknownOption()
    .argument('[flags...]', 'the simulator\'s flags')
    .action(async (flags: string[]) => {
      const { runPrinterSim } = await import('../printer-sim/runPrinterSim.ts')
      await runPrinterSim(flags, env)
    })
}
