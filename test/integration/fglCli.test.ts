/** `printwire preview` and `printwire lint` as users run them: the real bin/printwire.js in a child process. */
import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { decode } from 'fast-png'
import { afterEach, describe, expect, it } from 'vitest'
import { CliRun } from '../../harness/cliRun.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { ROOT } from '../../harness/processes.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const cli = (args: string[], stdin?: Buffer): CliRun => new CliRun(cleanup, args, stdin)
const CONCERT = path.join(ROOT, 'examples', 'tickets', 'concert-qr.fgl')

describe('printwire preview', () => {
  it('writes a PNG of the ticket next to the input by default, one pixel a dot', async () => {
    const dir = await tempDir(cleanup)
    const input = path.join(dir, 'concert.fgl')
    await writeFile(input, await readFile(CONCERT))
    const run = await cli(['preview', input]).exit()
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`wrote ${path.join(dir, 'concert.png')} (ticket 1 of 1, 1050×384 dots at 200 dpi)`)
    const png = decode(await readFile(path.join(dir, 'concert.png')))
    expect([png.width, png.height]).toEqual([1050, 384])
    expect(run.stderr).toBe('')
  })

  it('writes one file per ticket (out.svg, out-2.svg, ...) from stdin, at the resolution and size asked', async () => {
    const dir = await tempDir(cleanup)
    const out = path.join(dir, 'out.svg')
    const run = await cli(['preview', '-', '-o', out, '--dpi', '300', '--size', '3.25x5.5'], Buffer.from('<RC1,1>one<p><RC1,1>two<q>three\x0c')).exit()
    expect(run.code, run.stderr).toBe(0)
    for (const [file, word] of [['out.svg', 'one'], ['out-2.svg', 'two'], ['out-3.svg', 'three']] as const) {
      const svg = await readFile(path.join(dir, file), 'utf8')
      expect(svg).toContain('width="1575" height="936"')
      expect(svg).toContain(`>${word}</text>`)
    }
  })

  it('draws a job with problems and lists them on stderr, exiting 0', async () => {
    const dir = await tempDir(cleanup)
    const out = path.join(dir, 'x.png')
    const run = await cli(['preview', '-o', out], Buffer.from('<RC1,1><XYZ>text')).exit()
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('<stdin>:1:1 FGL_NO_TICKET_END error')
    expect(run.stderr).toContain('<stdin>:1:8 FGL_UNKNOWN_COMMAND warning')
    expect((await stat(out)).size).toBeGreaterThan(0)
  })

  it('refuses what it cannot do with a clear error and exit 1, writing nothing', async () => {
    const dir = await tempDir(cleanup)
    const cases: Array<[string[], Buffer | undefined, string]> = [
      [['preview', CONCERT, '-o', path.join(dir, 'x.jpg')], undefined, 'printwire: INVALID_ARGUMENT: -o '],
      [['preview'], Buffer.from('<RC1,1>x<p>'), 'printwire: INVALID_ARGUMENT: reading stdin: say where to write the preview with -o'],
      [['preview', '-o', path.join(dir, 'e.png')], Buffer.from('\r\n'), 'printwire: INVALID_ARGUMENT: nothing to preview: <stdin> holds no ticket'],
      [['preview', path.join(dir, 'missing.fgl'), '-o', path.join(dir, 'm.png')], undefined, 'printwire: ENOENT'],
      [['preview', CONCERT, '--dpi', '250', '-o', path.join(dir, 'd.png')], undefined, "option '--dpi <dpi>' argument '250' is invalid"],
      [['lint', CONCERT, '--size', '2by5'], undefined, "option '--size <WxL>' argument '2by5' is invalid"]
    ]
    for (const [args, stdin, message] of cases) {
      const run = await cli(args, stdin).exit()
      expect(run.code, args.join(' ')).toBe(1)
      expect(run.stderr, args.join(' ')).toContain(message)
    }
    for (const name of ['x.jpg', 'e.png', 'm.png', 'd.png']) await expect(stat(path.join(dir, name))).rejects.toThrow()
  })
})

describe('printwire lint', () => {
  it('prints nothing and exits 0 for a clean ticket', async () => {
    const run = await cli(['lint', CONCERT]).exit()
    expect(run).toMatchObject({ code: 0, stdout: '', stderr: '' })
  })

  it('prints file:line:col code severity message for each finding and exits 1 on errors', async () => {
    const dir = await tempDir(cleanup)
    const file = path.join(dir, 'bad.fgl')
    await writeFile(file, '<RC10,10><F3>ok\n<RC10><rc1,1>\n<RC350,10><OL6>^CUT OFF^<p>')
    const run = await cli(['lint', file]).exit()
    expect(run.code).toBe(1)
    expect(run.stdout.trim().split('\n')).toEqual([
      `${file}:2:1 FGL_BAD_ARGUMENTS error <RC10>: expected <RCrow,column>`,
      `${file}:2:7 FGL_UNKNOWN_COMMAND warning unknown command <rc1,1>; commands are case-sensitive: <RC1,1>?`,
      expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:11 FGL_BARCODE_OFF_TICKET error barcode covers rows 350-397`))
    ])
    expect(run.stderr).toBe(`${file}: 2 errors, 1 warning\n`)
  })

  it('reads stdin, and exits 0 when there are only warnings', async () => {
    const run = await cli(['lint'], Buffer.from('<XY>hello<p>')).exit()
    expect(run.code).toBe(0)
    expect(run.stdout).toBe('<stdin>:1:1 FGL_UNKNOWN_COMMAND warning unknown command <XY>: not drawn\n')
  })

  it('judges by the ticket size given', async () => {
    const job = Buffer.from('<RC500,10><F3>wide ticket<p>')
    expect((await cli(['lint', '-'], job).exit()).stdout).toContain('FGL_OFF_TICKET')
    expect(await cli(['lint', '-', '--size', '3.25x5.5'], job).exit()).toMatchObject({ code: 0, stdout: '' })
  })
})
