/**
 * `printwire discover <CIDR>` (discover.ts) and `printwire test-print <id>` (testTicket.ts, printed through
 * printCommand.ts as `printwire print` does, with its exit codes): finding the printers of a venue and proving one
 * works, end to end.
 */
import { InvalidArgumentError, type Command } from 'commander'
import { brokerTarget, defaultOf, loadCliConfig, type CliVariable } from './config.ts'
import { describeFinding, parseRange, printerIdFor, printersLine, scan, type Finding } from './discover.ts'
import { printJob } from './printCommand.ts'
import { testTicket } from './testTicket.ts'

type Env = Record<string, string | undefined>

function wholeNumber (min: number, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`)
    return n
  }
}

interface DiscoverFlags { port: number, timeout: number, concurrency: number, allowLargeRange?: boolean }

export function addDiscoveryCommands (program: Command, env: Env): void {
  program.command('discover')
    .description('find the devices answering on a port (9100) in an IPv4 range, tell Boca printers from other listeners (by their answer to <S1>), and write a PRINTERS= line')
    .argument('<cidr>', 'the range to scan, e.g. 192.168.1.0/24 (always given: there is no default scan)')
    .option('--port <port>', 'TCP port', wholeNumber(1, 65535), 9100)
    .option('--timeout <ms>', 'per host: how long the connection, then the answer to <S1>, may take', wholeNumber(1, 60_000), 1000)
    .option('--concurrency <n>', 'hosts probed at once', wholeNumber(1, 1024), 64)
    .option('--allow-large-range', 'scan a range larger than a /16')
    .action(async (cidr: string, opts: DiscoverFlags) => {
      const range = parseRange(cidr, opts.allowLargeRange === true)
      process.stderr.write(`scanning ${range.hosts.length} addresses of ${range.cidr} on port ${opts.port} (${opts.concurrency} at a time, ${opts.timeout} ms per host)\n`)
      const findings = await scan(range, { port: opts.port, timeoutMs: opts.timeout, concurrency: opts.concurrency })
      for (const line of table(findings)) process.stdout.write(line + '\n')
      const printers = printersLine(findings)
      const bocas = findings.filter((f) => f.kind === 'boca').length
      process.stderr.write(`${findings.length} of ${range.hosts.length} addresses accept connections on port ${opts.port}; ${bocas} answered as Boca printers\n`)
      if (printers !== undefined) process.stdout.write(printers + '\n')
      else process.stderr.write('no Boca printer answered: a busy or faulted Boca does not answer <S1>, and one that serves a relay takes no second connection\n')
    })

  program.command('test-print')
    .description('print a test ticket (printer id, time, a QR code) on a printer through the broker and wait for its result')
    .argument('<id>', 'printer id')
    .option('--url <url>', `broker URL (MQTT_URL, default ${defaultOf('MQTT_URL')}); logs in as MQTT_USERNAME with MQTT_PASSWORD`)
    .option('--timeout <ms>', 'how long to wait for the result', wholeNumber(1, 86_400_000), 60_000)
    .option('--prefix <prefix>', `topic prefix (TOPIC_PREFIX, default ${defaultOf('TOPIC_PREFIX')})`)
    .action(async (printerId: string, opts: { url?: string, timeout: number, prefix?: string }) => {
      const reads: CliVariable[] = ['MQTT_USERNAME', 'MQTT_PASSWORD']
      if (opts.url === undefined) reads.push('MQTT_URL')
      if (opts.prefix === undefined) reads.push('TOPIC_PREFIX')
      const target = brokerTarget(opts, loadCliConfig(env, reads))
      const result = await printJob({
        ...target,
        printerId,
        data: testTicket(printerId, new Date()),
        copies: 1,
        timeoutMs: opts.timeout,
        progress: (line) => process.stderr.write(line + '\n')
      })
      process.stdout.write(JSON.stringify(result) + '\n')
    })
}

/** The findings as aligned columns: address:port, printer id (Boca only), what, detail. */
function table (findings: readonly Finding[]): string[] {
  const rows = [['ADDRESS', 'PRINTER ID', 'WHAT', 'DETAIL'], ...findings.map((f) => {
    const { what, detail } = describeFinding(f)
    return [`${f.address}:${f.port}`, f.kind === 'boca' ? printerIdFor(f.address) : '-', what, detail]
  })]
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => r.map((cell, i) => i < 3 ? cell.padEnd(widths[i] ?? 0) : cell).join('  ').trimEnd())
}
