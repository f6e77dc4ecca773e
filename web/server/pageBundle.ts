/**
 * Scripts for browsers, bundled by esbuild (mqtt.js's browser build included) and cached by content: the
 * page's (web/page/app.ts, `/app.js`), the dashboard's (web/dashboard/app.ts, `/dashboard.js`), the client library's (client/index.ts, `/printwire-client.js`, an
 * ES module exporting `connect`) and the ticket preview's renderer (web/page/previewRenderer.ts, `/preview.js`),
 * each in a cache file of its own. The cache file (node_modules/.cache/printwire/page-bundle.json) holds the bundle, the
 * files it was built from and a hash of their contents: a start whose files hash the same serves the cached
 * bundle without running esbuild, and an edited file (of the page, protocol/ or mqtt.js) changes the hash, so
 * the bundle is built again. It cannot go stale. A cache that cannot be written (a read-only install) costs a
 * build at each start and a warning; the Docker image builds it once, at image build (`npm run build:page`).
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, version as esbuildVersion, type BuildOptions } from 'esbuild'
import type { Logger } from '../../runtime/logger.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const PAGE_ENTRY = path.join(ROOT, 'web', 'page', 'app.ts')
/** The dashboard's entry (`/dashboard.js`, web/dashboard/). */
export const DASHBOARD_ENTRY = path.join(ROOT, 'web', 'dashboard', 'app.ts')
/** The client library for browsers (SPEC "Client library"). */
export const CLIENT_ENTRY = path.join(ROOT, 'client', 'index.ts')
/** The ticket preview's renderer (fgl/ with bwip-js), which the page loads after it starts (`/preview.js`). */
export const PREVIEW_ENTRY = path.join(ROOT, 'web', 'page', 'previewRenderer.ts')
export const PAGE_CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'printwire')

const BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  write: false,
  metafile: true,
  logLevel: 'silent',
  absWorkingDir: ROOT
}

export interface PageBundleDeps {
  logger: Logger
  /** The page's entry file; web/page/app.ts by default. */
  entry?: string
  /** What the script is, in logs and in the cache file's name (`<name>-bundle.json`); `page` by default. */
  name?: string
  /** Where the cached bundle is kept; node_modules/.cache/printwire by default. */
  cacheDir?: string
}

/** What the cache file holds. `inputs` are relative to the repository's root, as esbuild names them. */
interface CachedBundle {
  key: string
  inputs: string[]
  script: string
}

/** The client library's script for browsers (`/printwire-client.js`), cached like the page's. */
export function loadClientScript (deps: { logger: Logger, cacheDir?: string }): Promise<string> {
  return loadPageScript({ ...deps, entry: CLIENT_ENTRY, name: 'client' })
}

/** The dashboard's script (`/dashboard.js`), cached like the page's. */
export function loadDashboardScript (deps: { logger: Logger, cacheDir?: string }): Promise<string> {
  return loadPageScript({ ...deps, entry: DASHBOARD_ENTRY, name: 'dashboard' })
}

/** The ticket preview's renderer for the page (`/preview.js`), cached like the page's. */
export function loadPreviewScript (deps: { logger: Logger, cacheDir?: string }): Promise<string> {
  return loadPageScript({ ...deps, entry: PREVIEW_ENTRY, name: 'preview' })
}

/** The page's script: from the cache when its sources are unchanged, otherwise built (and cached). */
export async function loadPageScript (deps: PageBundleDeps): Promise<string> {
  const entry = deps.entry ?? PAGE_ENTRY
  const name = deps.name ?? 'page'
  const file = path.join(deps.cacheDir ?? PAGE_CACHE_DIR, `${name}-bundle.json`)
  const cached = await readCache(file)
  if (cached !== undefined && cached.key === await contentKey(entry, cached.inputs)) {
    deps.logger.info({ cache: file, bytes: cached.script.length }, `${name} script from cache`)
    return cached.script
  }
  const started = performance.now()
  const built = await bundle(entry)
  deps.logger.info({ entry: path.relative(ROOT, entry), inputs: built.inputs.length, bytes: built.script.length, durationMs: Math.round(performance.now() - started) }, `${name} script built`)
  await writeCache(file, built, deps.logger, name)
  return built.script
}

async function bundle (entry: string): Promise<CachedBundle> {
  const result = await build({ ...BUILD_OPTIONS, entryPoints: [entry] })
  const output = result.outputFiles?.[0]
  if (output === undefined) throw new Error(`esbuild produced no output for ${entry}`)
  const inputs = Object.keys(result.metafile?.inputs ?? {}).sort()
  return { key: await contentKey(entry, inputs), inputs, script: output.text }
}

/**
 * A hash of everything the bundle depends on: esbuild's version and options, the entry, and each input's
 * name and contents. An input that is gone gives a key no cache holds.
 */
async function contentKey (entry: string, inputs: readonly string[]): Promise<string> {
  const hash = createHash('sha256')
  hash.update(JSON.stringify({ esbuildVersion, options: BUILD_OPTIONS, entry: path.relative(ROOT, entry) }))
  for (const input of inputs) {
    hash.update(`\0${input}\0`)
    try {
      hash.update(await readFile(path.resolve(ROOT, input)))
    } catch {
      hash.update('\0missing\0')
    }
  }
  return hash.digest('hex')
}

/** The cache file's contents; undefined when there is none or it is not one (then the bundle is built). */
async function readCache (file: string): Promise<CachedBundle | undefined> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(file, 'utf8'))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { key, inputs, script } = value as Record<string, unknown>
  if (typeof key !== 'string' || typeof script !== 'string' || !Array.isArray(inputs) || inputs.length === 0) return undefined
  if (!inputs.every((input): input is string => typeof input === 'string')) return undefined
  return { key, inputs, script }
}

/** Written to a temporary file and renamed, so a start running alongside reads the old cache or the new one. */
async function writeCache (file: string, bundled: CachedBundle, logger: Logger, name: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(temporary, JSON.stringify(bundled))
    await rename(temporary, file)
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {})
    logger.warn({ err: error, cache: file }, `cannot cache the ${name} script: it is built again at each start`)
  }
}
