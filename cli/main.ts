/** `npx printwire <command>` (bin/printwire.js): runs the command line; a failure is one line on stderr and exit code 1. */
import { failureLine } from './failure.ts'
import { buildProgram } from './program.ts'

try {
  await buildProgram(process.env).parseAsync(process.argv)
} catch (error) {
  process.stderr.write(failureLine(error) + '\n')
  process.exitCode = 1
}
