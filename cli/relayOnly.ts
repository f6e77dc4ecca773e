/**
 * The entry of the relay-only bundle (`npm run pack:relay`, deploy/packRelay.ts): `printwire relay [--config
 * FILE]` and nothing else, so that the bundle holds the relay and its pure-JavaScript dependencies only (no
 * broker stores, no native modules, no tsx): one file that runs on any machine with Node, x64 or ARM.
 */
import { Command } from 'commander'
import { failureLine } from './failure.ts'
import { addRelayCommand } from './relayCommand.ts'

declare const PRINTWIRE_VERSION: string

const program = new Command('printwire')
  .description('The Printwire relay: carries print jobs from the broker to the ticket printers on this LAN.')
  .version(PRINTWIRE_VERSION)
  .showHelpAfterError()
addRelayCommand(program, process.env)
try {
  await program.parseAsync(process.argv)
} catch (error) {
  process.stderr.write(failureLine(error) + '\n')
  process.exitCode = 1
}
