/**
 * `printwire preview` and `printwire lint` (SPEC "Ticket preview (FGL)"): draw a job's tickets to PNG or SVG
 * files, or list what is wrong with it. Both read a file, or stdin for `-` or no file.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { PrintwireError } from '../protocol/index.ts'
import { DEFAULT_DPI, DEFAULT_SIZE, findingLine, hasErrors, parseDpi, parseTicketSize, renderJob, ticketGeometry, type Dpi, type Finding, type TicketSize } from '../fgl/index.ts'
import { lintFgl } from '../fgl/lint.ts'

type ReadInput = (file: string | undefined) => Promise<Buffer>

interface GeometryFlags { dpi: Dpi, size: TicketSize }

function dpiOption (value: string): Dpi {
  const dpi = parseDpi(value)
  if (dpi === undefined) throw new InvalidArgumentError('must be 203, 300 or 600 (200 is the same as 203)')
  return dpi
}

function sizeOption (value: string): TicketSize {
  const size = parseTicketSize(value)
  if (size === undefined) throw new InvalidArgumentError('must be WIDTHxLENGTH in inches, each from 1 to 20, such as 2x5.5 or 3.25x5.5')
  return size
}

function withGeometryOptions (command: Command): Command {
  return command
    .addOption(new Option('--dpi <dpi>', 'printer resolution: 203 (the 200-dpi class), 300 or 600').argParser(dpiOption).default(DEFAULT_DPI, '203'))
    .addOption(new Option('--size <WxL>', 'ticket width x length in inches').argParser(sizeOption).default(DEFAULT_SIZE, '2x5.5'))
}

/** What the findings are called in output: the file as given, or `<stdin>`. */
function sourceName (file: string | undefined): string {
  return file === undefined || file === '-' ? '<stdin>' : file
}

/**
 * Where ticket n (1-based) of a preview goes: `out.png` for the first, then `out-2.png`, `out-3.png`, ...
 * Without -o, the input's name with `.png` next to it (`ticket.fgl` → `ticket.png`).
 */
export function outputFiles (output: string | undefined, input: string | undefined, tickets: number): string[] {
  let first = output
  if (first === undefined) {
    if (input === undefined || input === '-') throw new PrintwireError('INVALID_ARGUMENT', 'reading stdin: say where to write the preview with -o out.png or -o out.svg')
    const parsed = path.parse(input)
    first = path.join(parsed.dir, `${parsed.name}.png`)
  }
  const extension = path.extname(first).toLowerCase()
  if (extension !== '.png' && extension !== '.svg') throw new PrintwireError('INVALID_ARGUMENT', `-o ${first}: the preview is written as .png or .svg`)
  const stem = first.slice(0, first.length - extension.length)
  return Array.from({ length: tickets }, (_, i) => i === 0 ? first : `${stem}-${i + 1}${path.extname(first)}`)
}

function summary (findings: Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error').length
  const warnings = findings.length - errors
  return `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`
}

export function addPreviewCommands (program: Command, readInput: ReadInput): void {
  withGeometryOptions(program.command('preview')
    .description('draw each ticket of an FGL job as a PNG or SVG file, as the printer lays it out; lint findings go to stderr')
    .argument('[file]', 'the job\'s bytes (FGL); - or none reads stdin')
    .option('-o, --output <file>', 'out.png or out.svg; a job of several tickets also writes out-2.png, ... (default: the input\'s name with .png)'))
    .action(async (file: string | undefined, opts: GeometryFlags & { output?: string }) => {
      const data = await readInput(file)
      const job = renderJob(data, { geometry: ticketGeometry(opts.size, opts.dpi) })
      if (job.tickets.length === 0) throw new PrintwireError('INVALID_ARGUMENT', `nothing to preview: ${sourceName(file)} holds no ticket`)
      const files = outputFiles(opts.output, file, job.tickets.length)
      const png = files.some((f) => f.toLowerCase().endsWith('.png')) ? await import('../fgl/png.ts') : undefined
      for (const [i, svg] of job.svgs.entries()) {
        const target = files[i] as string
        await writeFile(target, png === undefined ? svg : png.svgToPng(svg))
        process.stdout.write(`wrote ${target} (ticket ${i + 1} of ${job.tickets.length}, ${job.geometry.columns}×${job.geometry.rows} dots at ${job.geometry.dpi} dpi)\n`)
      }
      for (const finding of job.findings) process.stderr.write(findingLine(sourceName(file), finding) + '\n')
      if (job.findings.length > 0) process.stderr.write(`${summary(job.findings)} (printwire lint lists them too)\n`)
    })

  withGeometryOptions(program.command('lint')
    .description('list what is wrong with an FGL job, as file:line:column code severity message; exit 1 on errors')
    .argument('[file]', 'the job\'s bytes (FGL); - or none reads stdin'))
    .action(async (file: string | undefined, opts: GeometryFlags) => {
      const data = await readInput(file)
      const findings = lintFgl(data, { geometry: ticketGeometry(opts.size, opts.dpi) })
      for (const finding of findings) process.stdout.write(findingLine(sourceName(file), finding) + '\n')
      if (findings.length > 0) process.stderr.write(`${sourceName(file)}: ${summary(findings)}\n`)
      if (hasErrors(findings)) process.exitCode = 1
    })
}
