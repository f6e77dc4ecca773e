/**
 * deploy/printwire-relay.service, the relay's systemd unit: `systemd-analyze verify` finds nothing to say about
 * it (it exits 0 even for an unknown key or a bad value, so its output must be empty too), and it runs the relay
 * in process as an unprivileged user with a state directory, stops it with SIGTERM and restarts it on failure.
 * systemd-analyze comes with Debian's `systemd` package (.ci/run installs it where it is missing).
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { ROOT } from '../../harness/processes.ts'

const UNIT = path.join(ROOT, 'deploy', 'printwire-relay.service')
const UNIT_NODE = '/usr/bin/node'
const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

function systemdAnalyze (): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/bin', '/bin')) {
    if (dir !== '' && existsSync(path.join(dir, 'systemd-analyze'))) return path.join(dir, 'systemd-analyze')
  }
  throw new Error('systemd-analyze is not installed: install Debian\'s "systemd" package (apt-get install systemd; .ci/run does) to check the unit file')
}

/** What `systemd-analyze verify` says about the unit `text` (as a file named printwire-relay.service): its exit code and output. */
async function verify (text: string): Promise<{ code: number, output: string }> {
  const dir = await tempDir(cleanup)
  const file = path.join(dir, 'printwire-relay.service')
  // The unit names Debian's node; where node lives elsewhere (a node:20 image: /usr/local/bin), the copy names this one.
  await writeFile(file, existsSync(UNIT_NODE) ? text : text.replaceAll(UNIT_NODE, process.execPath))
  try {
    const { stdout, stderr } = await promisify(execFile)(systemdAnalyze(), ['verify', '--man=no', '--recursive-errors=no', file], { env: { PATH: process.env.PATH ?? '', SYSTEMD_LOG_COLOR: '0' } })
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const failed = error as { code?: number, stdout?: string, stderr?: string }
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` }
  }
}

/** Each `Key=value` of the unit's [Service] section, all values of a repeated key. */
function serviceSettings (text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>()
  let section = ''
  for (const line of text.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line.trim())
    if (header !== null) { section = header[1] as string; continue }
    const setting = /^([A-Za-z]+)=(.*)$/.exec(line)
    if (section === 'Service' && setting !== null) settings.set(setting[1] as string, [...(settings.get(setting[1] as string) ?? []), setting[2] as string])
  }
  return settings
}

describe('the relay\'s systemd unit', () => {
  it('passes systemd-analyze verify without a word', async () => {
    const { code, output } = await verify(await readFile(UNIT, 'utf8'))
    expect(output).toBe('')
    expect(code).toBe(0)
  })

  it('the check catches what is wrong: an unknown key, a bad value, a missing program', async () => {
    const unit = await readFile(UNIT, 'utf8')
    const typo = await verify(unit.replace('ProtectHome=yes', 'ProtectHomes=yes'))
    expect(typo.output).toContain('Unknown key \'ProtectHomes\'')
    const badValue = await verify(unit.replace('ProtectSystem=strict', 'ProtectSystem=very'))
    expect(badValue.output).toContain('protect system value')
    const missing = await verify(unit.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/node'))
    expect(missing.code).not.toBe(0)
    expect(missing.output).toContain('/nonexistent/node')
  })

  it('runs the relay in process as a user of its own, with a state directory, hardened, stopped by SIGTERM, restarted on failure', async () => {
    const settings = serviceSettings(await readFile(UNIT, 'utf8'))
    const one = (key: string): string | undefined => settings.get(key)?.at(-1)
    // No npm, no shell: the process systemd starts is the relay, and receives its SIGTERM.
    expect(one('ExecStart')).toMatch(/^\/usr\/bin\/node \S+\/printwire-relay\.mjs relay$/)
    expect(one('KillSignal')).toBe('SIGTERM')
    expect(one('Restart')).toBe('on-failure')
    expect(one('DynamicUser')).toBe('yes')
    expect(settings.has('User')).toBe(false)
    expect(one('StateDirectory')).toBe('printwire-relay')
    expect(settings.get('Environment')).toEqual(expect.arrayContaining(['STATE_DIR=%S/printwire-relay', 'CONFIG_FILE=%d/relay.json']))
    expect(one('LoadCredential')).toBe('relay.json:/etc/printwire/relay.json')
    for (const [key, value] of Object.entries({ NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', CapabilityBoundingSet: '', RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX' })) {
      expect(one(key), key).toBe(value)
    }
  })
})
