/**
 * The page script is bundled once and cached by content (web/server/pageBundle.ts): a second start takes it
 * from the cache without running esbuild, an edited source is bundled again, and a damaged or unwritable cache
 * costs a build, never the page. Real esbuild on real files in a temporary directory.
 */
import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadPageScript } from '../../web/server/pageBundle.ts'
import { captureLog } from '../../harness/logCapture.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

interface Sources { entry: string, dependency: string, cacheDir: string, cacheFile: string }

/** An entry importing a second file, as the page imports protocol/. */
async function writeSources (): Promise<Sources> {
  const dir = await tempDir(cleanup, 'printwire-bundle-')
  const entry = path.join(dir, 'entry.ts')
  const dependency = path.join(dir, 'greeting.ts')
  await writeFile(dependency, "export const GREETING: string = 'hello from the first build'\n")
  await writeFile(entry, "import { GREETING } from './greeting.ts'\ndocument.title = GREETING\n")
  const cacheDir = path.join(dir, 'cache')
  return { entry, dependency, cacheDir, cacheFile: path.join(cacheDir, 'page-bundle.json') }
}

/** One start: the script, and what it logged. */
async function load (sources: Sources): Promise<{ script: string, messages: string[] }> {
  const log = captureLog('debug')
  const script = await loadPageScript({ logger: log.logger, entry: sources.entry, cacheDir: sources.cacheDir })
  return { script, messages: log.entries().map((entry) => String(entry.msg)) }
}

describe('page script cache', () => {
  it('builds at the first start, takes the cache at the second without writing it, and builds again after an edit', async () => {
    const sources = await writeSources()
    const first = await load(sources)
    expect(first.messages).toEqual(['page script built'])
    expect(first.script).toContain('hello from the first build')
    const cached = await stat(sources.cacheFile)

    const second = await load(sources)
    expect(second.messages).toEqual(['page script from cache'])
    expect(second.script).toBe(first.script)
    expect((await stat(sources.cacheFile)).mtimeMs).toBe(cached.mtimeMs)

    // An imported file, not the entry, is edited: the cache knows every input.
    await writeFile(sources.dependency, "export const GREETING: string = 'hello after an edit'\n")
    const edited = await load(sources)
    expect(edited.messages).toEqual(['page script built'])
    expect(edited.script).toContain('hello after an edit')
    expect(edited.script).not.toContain('hello from the first build')
    expect((await load(sources)).messages).toEqual(['page script from cache'])
  })

  it('builds again when the cache file is damaged or not a cache', async () => {
    const sources = await writeSources()
    const { script } = await load(sources)
    for (const damaged of ['{"key":', '[]', JSON.stringify({ key: 'x', inputs: [], script: 'alert(1)' })]) {
      await writeFile(sources.cacheFile, damaged)
      const again = await load(sources)
      expect(again.messages, damaged).toEqual(['page script built'])
      expect(again.script).toBe(script)
    }
    // The key (of the inputs) decides: a cache whose key does not match them is not served.
    const cache = JSON.parse(await readFile(sources.cacheFile, 'utf8')) as { script: string }
    await writeFile(sources.cacheFile, JSON.stringify({ ...cache, script: 'alert("stale")' }))
    expect((await load(sources)).messages).toEqual(['page script from cache'])
    await writeFile(sources.cacheFile, JSON.stringify({ ...cache, key: 'not the hash', script: 'alert("stale")' }))
    const rebuilt = await load(sources)
    expect(rebuilt.messages).toEqual(['page script built'])
    expect(rebuilt.script).toBe(script)
  })

  it('serves the page without a cache it cannot write, and says so', async () => {
    const sources = await writeSources()
    // A file where the cache's folder would go: unwritable whoever runs the test (root included).
    await writeFile(path.dirname(sources.cacheDir) + '/not-a-folder', '')
    sources.cacheDir = path.join(path.dirname(sources.cacheDir), 'not-a-folder', 'cache')
    sources.cacheFile = path.join(sources.cacheDir, 'page-bundle.json')
    const log = captureLog('debug')
    const script = await loadPageScript({ logger: log.logger, entry: sources.entry, cacheDir: sources.cacheDir })
    expect(script).toContain('hello from the first build')
    const warning = log.entries().find((entry) => entry.msg === 'cannot cache the page script: it is built again at each start')
    expect(warning?.level).toBe(40)
    expect(warning?.cache).toBe(sources.cacheFile)
    expect(log.entries().map((entry) => entry.msg)).toContain('page script built')
  })
})
