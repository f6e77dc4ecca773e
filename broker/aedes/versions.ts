/**
 * The broker works around Aedes 1.2 in places that depend on its internals (durablePublish.ts: the PUBACK is
 * sent before the store; emitOrder.ts: `brokerCounter` and the per-connection `dedupe`; aedesInternals.ts: the
 * fields it reads; retainedReads.ts and persistence.ts: the persistences' own methods and mqemitter-redis'
 * `state`). Another version may change any of them without a word, and a durability promise would then break
 * silently: package.json pins these packages to exact versions, and the broker refuses to start on others,
 * saying which.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { PrintwireError } from '../../protocol/errorCodes.ts'

/** The versions the workarounds were written and tested against. */
export const PATCHED_VERSIONS: Readonly<Record<string, string>> = Object.freeze({
  aedes: '1.2.0',
  'aedes-persistence-level': '9.2.0',
  'aedes-persistence-redis': '11.2.2',
  'mqemitter-redis': '7.2.1'
})


/** The installed version of each package (undefined when it cannot be read). */
export function installedVersions (packages: readonly string[] = Object.keys(PATCHED_VERSIONS)): Record<string, string | undefined> {
  const require = createRequire(import.meta.url)
  const found: Record<string, string | undefined> = {}
  for (const name of packages) found[name] = versionOf(require, name)
  return found
}

/** From the package's own package.json, found above its entry point (aedes does not export `./package.json`). */
function versionOf (require: NodeJS.Require, name: string): string | undefined {
  let dir: string
  try {
    dir = path.dirname(require.resolve(name))
  } catch {
    return undefined
  }
  for (; ;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string, version?: string }
      if (manifest.name === name) return manifest.version
    } catch {}
    const parent = path.dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** Throws UNSUPPORTED_AEDES_VERSION naming every package whose installed version is not the one patched. */
export function checkAedesVersions (installed: Record<string, string | undefined> = installedVersions()): void {
  const wrong = Object.entries(PATCHED_VERSIONS)
    .filter(([name, version]) => installed[name] !== version)
    .map(([name, version]) => `${name} ${installed[name] ?? '(not found)'} (patched for ${version})`)
  if (wrong.length > 0) {
    throw new PrintwireError('UNSUPPORTED_AEDES_VERSION', `the broker works around the internals of these exact versions and will not run on others: ${wrong.join(', ')}; run \`npm ci\` (package-lock.json pins them), or review broker/aedes/versions.ts before changing them`)
  }
}
