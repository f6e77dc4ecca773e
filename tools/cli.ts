/** `npx printwire <command>`: the command line. Each command's logic lives in its own module. */
import { readFile } from 'node:fs/promises'
import { Command, InvalidArgumentError } from 'commander'
import { DEFAULT_TOPIC_PREFIX, MAX_COPIES, MIN_COPIES } from '../protocol/index.ts'
import { printJob, PrintCommandError } from './printCommand.ts'
import { addUser, listUsers, removeUser } from './userCommand.ts'
import { readAuthFile } from '../access/authFile.ts'
import { mosquittoFiles, writeMosquittoFiles } from '../access/mosquittoExport.ts'

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

const program = new Command('printwire')
  .description('Print from the web to ticket printers on someone else\'s LAN, through MQTT.')
  .showHelpAfterError()

program.command('print')
  .description('print a file (or stdin) on a printer and wait for its result')
  .argument('[file]', 'the job\'s bytes (FGL); - or none reads stdin')
  .requiredOption('--printer <id>', 'printer id')
  .option('--url <url>', 'broker URL (MQTT_URL)', process.env.MQTT_URL ?? 'mqtt://localhost:1883')
  .option('--copies <n>', `copies, ${MIN_COPIES}-${MAX_COPIES}`, wholeNumber(MIN_COPIES, MAX_COPIES), 1)
  .option('--id <jobId>', 'job id (default: a new one)')
  .option('--expires-at <iso>', 'do not print after this time (ISO-8601)')
  .option('--timeout <ms>', 'how long to wait for the result', wholeNumber(1, 86_400_000), 60_000)
  .option('--prefix <prefix>', 'topic prefix', DEFAULT_TOPIC_PREFIX)
  .option('--wait-for-printer <ms>', 'first wait up to this long for the broker and for a relay serving the printer (status online, unreachable or error); without it the job is published at once', wholeNumber(1, 86_400_000))
  .action(async (file: string | undefined, opts: { printer: string, url: string, copies: number, id?: string, expiresAt?: string, timeout: number, prefix: string, waitForPrinter?: number }) => {
    const data = await readInput(file)
    if (data.length === 0) throw new PrintCommandError('INVALID_ARGUMENT', 'nothing to print: the input is empty')
    const result = await printJob({
      url: opts.url,
      printerId: opts.printer,
      data,
      copies: opts.copies,
      ...(opts.id === undefined ? {} : { jobId: opts.id }),
      ...(opts.expiresAt === undefined ? {} : { expiresAt: opts.expiresAt }),
      ...(process.env.MQTT_USERNAME === undefined ? {} : { username: process.env.MQTT_USERNAME }),
      ...(process.env.MQTT_PASSWORD === undefined ? {} : { password: process.env.MQTT_PASSWORD }),
      topicPrefix: opts.prefix,
      timeoutMs: opts.timeout,
      ...(opts.waitForPrinter === undefined ? {} : { waitForPrinterMs: opts.waitForPrinter }),
      progress: (line) => process.stderr.write(line + '\n')
    })
    process.stdout.write(JSON.stringify(result) + '\n')
  })

const user = program.command('user').description('manage the users of AUTH_FILE (hashed passwords, roles, printers)')
const fileOption = '--file <path>'
user.command('add')
  .description('add a user, or replace one of the same name')
  .argument('<name>', 'user name')
  .requiredOption('--password <password>', 'password (stored only as a scrypt hash)')
  .requiredOption('--role <role>', 'client, relay or admin')
  .requiredOption('--printers <list>', 'printer ids, comma-separated, or *')
  .option(fileOption, 'the users file (AUTH_FILE)', process.env.AUTH_FILE ?? 'auth.json')
  .action(async (name: string, opts: { password: string, role: string, printers: string, file: string }) => {
    const outcome = await addUser(opts.file, name, opts)
    process.stdout.write(`${outcome} ${name} (${opts.role}) in ${opts.file}\n`)
  })
user.command('remove')
  .description('remove a user')
  .argument('<name>', 'user name')
  .option(fileOption, 'the users file (AUTH_FILE)', process.env.AUTH_FILE ?? 'auth.json')
  .action(async (name: string, opts: { file: string }) => {
    await removeUser(opts.file, name)
    process.stdout.write(`removed ${name} from ${opts.file}\n`)
  })
user.command('list')
  .description('list users: name, role, printers')
  .option(fileOption, 'the users file (AUTH_FILE)', process.env.AUTH_FILE ?? 'auth.json')
  .action(async (opts: { file: string }) => {
    for (const line of await listUsers(opts.file)) process.stdout.write(line + '\n')
  })

program.command('mosquitto-export')
  .description('write the Mosquitto password_file and acl_file equivalent to AUTH_FILE')
  .option(fileOption, 'the users file (AUTH_FILE)', process.env.AUTH_FILE ?? 'auth.json')
  .requiredOption('--out <dir>', 'directory for `passwords` and `acl` (mosquitto.conf reads them from there)')
  .option('--prefix <prefix>', 'topic prefix', process.env.TOPIC_PREFIX ?? DEFAULT_TOPIC_PREFIX)
  .action(async (opts: { file: string, out: string, prefix: string }) => {
    const files = mosquittoFiles(await readAuthFile(opts.file), opts.prefix, opts.file)
    for (const written of await writeMosquittoFiles(opts.out, files)) process.stdout.write(`wrote ${written}\n`)
  })

try {
  await program.parseAsync(process.argv)
} catch (error) {
  const code = (error as { code?: string }).code
  process.stderr.write(`printwire: ${code === undefined ? '' : code + ': '}${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
