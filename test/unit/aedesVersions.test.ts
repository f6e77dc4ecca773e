/**
 * The broker works around Aedes' internals and so runs only on the exact versions it was written for
 * (broker/aedes/versions.ts); package.json pins them.
 */
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { checkAedesVersions, installedVersions, PATCHED_VERSIONS } from '../../broker/aedes/versions.ts'

describe('the Aedes versions the broker patches', () => {
  it('are the ones installed, and the ones package.json pins exactly', async () => {
    expect(installedVersions()).toEqual(PATCHED_VERSIONS)
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
    for (const [name, version] of Object.entries(PATCHED_VERSIONS)) expect(manifest.dependencies[name], name).toBe(version)
    expect(() => checkAedesVersions()).not.toThrow()
  })

  it('refuses any other version, or a missing package, naming each', () => {
    let error: unknown
    try {
      checkAedesVersions({ ...PATCHED_VERSIONS, aedes: '1.3.0', 'mqemitter-redis': undefined })
    } catch (caught) {
      error = caught
    }
    expect(error).toMatchObject({ code: 'UNSUPPORTED_AEDES_VERSION' })
    expect((error as Error).message).toMatch(/aedes 1\.3\.0 \(patched for 1\.2\.0\)/)
    expect((error as Error).message).toMatch(/mqemitter-redis \(not found\) \(patched for 7\.2\.1\)/)
  })
})
