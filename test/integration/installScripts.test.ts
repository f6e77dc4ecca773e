/**
 * package.json's `allowScripts` decides every dependency install script (npm 11 warns about undecided ones,
 * npm 12 skips them): a fresh install prints no such warning, and Printwire works without those scripts. Both
 * are denied: classic-level's (node-gyp-build) only picks the prebuilt binary, which LevelDB finds at run time
 * anyway; esbuild's postinstall only checks its binary and puts it in place of its bin/ shim, and Printwire
 * calls esbuild's API, which runs the binary of the @esbuild/<platform> package directly.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { cp, rm } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { CommandProcess } from '../../harness/commandProcess.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { ROOT } from '../../harness/processes.ts'

const run = promisify(execFile)
const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall']

interface Manifest { name: string, version: string, scripts?: Record<string, string>, gypfile?: boolean }

/** Every installed package that has an install-time script: its own, or npm's implicit `node-gyp rebuild` for a binding.gyp. */
function packagesWithInstallScripts (nodeModules: string): string[] {
  const found = new Set<string>()
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith('.')) continue
      const where = path.join(dir, entry)
      if (entry.startsWith('@')) { visit(where); continue }
      const manifestFile = path.join(where, 'package.json')
      if (!existsSync(manifestFile)) continue
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest
      const scripts = Object.keys(manifest.scripts ?? {}).filter((name) => INSTALL_SCRIPTS.includes(name))
      const implicitGyp = scripts.length === 0 && manifest.gypfile !== false && existsSync(path.join(where, 'binding.gyp'))
      if (scripts.length > 0 || implicitGyp) found.add(manifest.name)
      if (existsSync(path.join(where, 'node_modules'))) visit(path.join(where, 'node_modules'))
    }
  }
  visit(nodeModules)
  return [...found].sort()
}

describe('dependency install scripts', () => {
  it('allowScripts decides every package with an install script, and npm finds none undecided', async () => {
    const { allowScripts } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> }
    const withScripts = packagesWithInstallScripts(path.join(ROOT, 'node_modules'))
    expect(withScripts).toContain('classic-level')
    expect(withScripts).toContain('esbuild')
    expect(withScripts.filter((name) => allowScripts?.[name] === undefined)).toEqual([])
    // No script is allowed: none is needed (below).
    expect(Object.values(allowScripts ?? {}).filter((allowed) => allowed !== false)).toEqual([])
    const { stdout, stderr } = await run('npm', ['install-scripts', 'ls'], { cwd: ROOT, env: { ...process.env, NPM_CONFIG_UPDATE_NOTIFIER: 'false' } })
    expect(`${stdout}${stderr}`).toContain('No packages with unreviewed install scripts.')
  })

  it('without what those scripts leave behind, the broker starts with LevelDB and builds its page with esbuild', async () => {
    // A copy of the repo whose node_modules is as an install that skipped the scripts leaves it (hard links:
    // quick, and removing a file in the copy leaves the original alone).
    const copy = await tempDir(cleanup, 'printwire-noscripts-')
    for (const entry of readdirSync(ROOT)) {
      if (['node_modules', '.git', 'dist'].includes(entry)) continue
      await cp(path.join(ROOT, entry), path.join(copy, entry), { recursive: true })
    }
    await run('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules')])
    // esbuild's postinstall puts its binary in place of bin/esbuild; classic-level's would build into build/.
    await rm(path.join(copy, 'node_modules', 'esbuild', 'bin', 'esbuild'), { force: true })
    await rm(path.join(copy, 'node_modules', 'classic-level', 'build'), { recursive: true, force: true })
    // The page bundle's cache, so that esbuild must run.
    await rm(path.join(copy, 'node_modules', '.cache'), { recursive: true, force: true })
    const data = await tempDir(cleanup)
    const broker = new CommandProcess(cleanup, { bin: path.join(copy, 'bin', 'printwire.js'), args: ['broker'], cwd: copy, env: { PORT: '0', MQTT_PORT: '0', PERSISTENCE: 'level', DATA_DIR: data } })
    const listening = await broker.waitForLog('broker listening', 60_000)
    expect(String(listening.persistence)).toMatch(/^level /)
    expect(broker.logs.map((line) => line.msg)).toContain('page script built')
    expect(readdirSync(path.join(data, 'broker-level'))).toContain('CURRENT')
    expect(await broker.kill('SIGTERM')).toBe(0)
  }, 90_000)
})
