/**
 * `printwire`'s commands and flags (commander). Each command's logic lives in its own module; the
 * environment is read once, through cli/config.ts, when a command runs (so `--help` works whatever it holds).
 */
import { readFile } from 'node:fs/promises'
import { Command, InvalidArgumentError } from 'commander'
import { MAX_COPIES, MIN_COPIES, PrintwireError } from '../protocol/index.ts'
import { printJob } from './printCommand.ts'
import { addPreviewCommands } from './previewCommand.ts'
import { addDiscoveryCommands } from './discoveryCommands.ts'
import { addUser, listUsers, removeUser } from './userCommand.ts'
import { readAuthFile } from '../access/authFile.ts'
import { mosquittoFiles, writeMosquittoFiles } from '../access/mosquittoExport.ts'
import { authFile, brokerTarget, DEFAULT_AUTH_FILE, defaultOf, loadCliConfig, topicPrefix, type CliVariable } from './config.ts'

type Env = Record<string, string | undefined>

function wholeNumber (min: number, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`)
    return n
  }
}

async function readInput (file: string | undefined): Promise<Buffer> {
  if (file !== undefined && file !== '-') return readFile(file)
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** The command line; the command that runs validates `env` first (loadCliConfig). */
export function buildProgram (env: Env): Command {
  const program = new Command('printwire')
    .description('Print from the web to ticket printers on someone else\'s LAN, through MQTT.')
    .showHelpAfterError()
  addPrintCommand(program, env)
  addPreviewCommands(program, readInput)
  addUserCommands(program, env)
  addMosquittoExport(program, env)
  addDiscoveryCommands(program, env)
  return program
}

const prefixHelp = `topic prefix (TOPIC_PREFIX, default ${defaultOf('TOPIC_PREFIX')})`
const fileOption = '--file <path>'
const fileHelp = `the users file (AUTH_FILE, default ${DEFAULT_AUTH_FILE})`

interface PrintFlags { printer: string, url?: string, copies: number, id?: string, expiresAt?: string, timeout: number, prefix?: string, waitForPrinter?: number }

function addPrintCommand (program: Command, env: Env): void {
  program.command('print')
    .description('print a file (or stdin) on a printer and wait for its result')
    .argument('[file]', 'the job\'s bytes (FGL); - or none reads stdin')
    .requiredOption('--printer <id>', 'printer id')
    .option('--url <url>', `broker URL (MQTT_URL, default ${defaultOf('MQTT_URL')}); logs in as MQTT_USERNAME with MQTT_PASSWORD`)
    .option('--copies <n>', `copies, ${MIN_COPIES}-${MAX_COPIES}`, wholeNumber(MIN_COPIES, MAX_COPIES), 1)
    .option('--id <jobId>', 'job id (default: a new one)')
    .option('--expires-at <iso>', 'do not print after this time (ISO-8601)')
    .option('--timeout <ms>', 'how long to wait for the result', wholeNumber(1, 86_400_000), 60_000)
    .option('--prefix <prefix>', prefixHelp)
    .option('--wait-for-printer <ms>', 'first wait up to this long for the broker and for a relay serving the printer (status online, unreachable or error); without it the job is published at once', wholeNumber(1, 86_400_000))
    .action(async (file: string | undefined, opts: PrintFlags) => {
      const reads: CliVariable[] = ['MQTT_USERNAME', 'MQTT_PASSWORD']
      if (opts.url === undefined) reads.push('MQTT_URL')
      if (opts.prefix === undefined) reads.push('TOPIC_PREFIX')
      const target = brokerTarget(opts, loadCliConfig(env, reads))
      const data = await readInput(file)
      if (data.length === 0) throw new PrintwireError('INVALID_ARGUMENT', 'nothing to print: the input is empty')
      const result = await printJob({
        ...target,
        printerId: opts.printer,
        data,
        copies: opts.copies,
        ...(opts.id === undefined ? {} : { jobId: opts.id }),
        ...(opts.expiresAt === undefined ? {} : { expiresAt: opts.expiresAt }),
        timeoutMs: opts.timeout,
        ...(opts.waitForPrinter === undefined ? {} : { waitForPrinterMs: opts.waitForPrinter }),
        progress: (line) => process.stderr.write(line + '\n')
      })
      process.stdout.write(JSON.stringify(result) + '\n')
    })
}

function addUserCommands (program: Command, env: Env): void {
  const user = program.command('user').description('manage the users of AUTH_FILE (hashed passwords, roles, printers)')
  user.command('add')
    .description('add a user, or replace one of the same name')
    .argument('<name>', 'user name')
    .requiredOption('--password <password>', 'password (stored only as a scrypt hash)')
    .requiredOption('--role <role>', 'client, relay or admin')
    .requiredOption('--printers <list>', 'printer ids, comma-separated, or *')
    .option(fileOption, fileHelp)
    .action(async (name: string, opts: { password: string, role: string, printers: string, file?: string }) => {
      const file = authFile(opts.file, loadCliConfig(env, ['AUTH_FILE']))
      const outcome = await addUser(file, name, opts)
      process.stdout.write(`${outcome} ${name} (${opts.role}) in ${file}\n`)
    })
  user.command('remove')
    .description('remove a user')
    .argument('<name>', 'user name')
    .option(fileOption, fileHelp)
    .action(async (name: string, opts: { file?: string }) => {
      const file = authFile(opts.file, loadCliConfig(env, ['AUTH_FILE']))
      await removeUser(file, name)
      process.stdout.write(`removed ${name} from ${file}\n`)
    })
  user.command('list')
    .description('list users: name, role, printers')
    .option(fileOption, fileHelp)
    .action(async (opts: { file?: string }) => {
      for (const line of await listUsers(authFile(opts.file, loadCliConfig(env, ['AUTH_FILE'])))) process.stdout.write(line + '\n')
    })
}

function addMosquittoExport (program: Command, env: Env): void {
  program.command('mosquitto-export')
    .description('write the Mosquitto password_file and acl_file equivalent to AUTH_FILE')
    .option(fileOption, fileHelp)
    .requiredOption('--out <dir>', 'directory for `passwords` and `acl` (mosquitto.conf reads them from there)')
    .option('--prefix <prefix>', prefixHelp)
    .action(async (opts: { file?: string, out: string, prefix?: string }) => {
      const config = loadCliConfig(env, opts.prefix === undefined ? ['AUTH_FILE', 'TOPIC_PREFIX'] : ['AUTH_FILE'])
      const prefix = topicPrefix(opts.prefix, config)
      const file = authFile(opts.file, config)
      const files = mosquittoFiles(await readAuthFile(file), prefix, file)
      for (const written of await writeMosquittoFiles(opts.out, files)) process.stdout.write(`wrote ${written}\n`)
    })
}
