/**
 * Runs a part's entry file (argv[2]) in this process, and exits when the test process that spawned it goes
 * away (its end of our stdin closes), so a test run that is killed leaves no part running behind it.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const entry = process.argv[2]
if (entry === undefined) throw new Error('usage: exitWithParent.ts <entry.ts>')
process.stdin.on('end', () => process.exit(1))
process.stdin.on('error', () => process.exit(1))
process.stdin.resume()
process.argv.splice(2, 1)
await import(pathToFileURL(path.resolve(entry)).href)
