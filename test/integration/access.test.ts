/**
 * AUTH_FILE (SPEC "Access"): scrypt password hashes, the file's validation, and `printwire user add|remove|list`
 * run as the real command line.
 */
import { execFile } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { parseAuthFile, readAuthFile } from '../../access/authFile.ts'
import { PrintwireError } from '../../protocol/index.ts'
import { hashPassword, isPasswordHash, verifyPassword } from '../../access/passwordHash.ts'
import { hashMosquittoPassword, isMosquittoHash, verifyMosquittoPassword } from '../../access/mosquittoPassword.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { ROOT } from '../../harness/processes.ts'

const run = promisify(execFile)
const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function cli (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(ROOT, 'bin', 'printwire.js'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number, stdout: string, stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

describe('password hashes', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const hash = await hashPassword('correct horse')
    expect(isPasswordHash(hash)).toBe(true)
    expect(hash).not.toContain('correct horse')
    expect(await verifyPassword('correct horse', hash)).toBe(true)
    expect(await verifyPassword('correct horsE', hash)).toBe(false)
    expect(await verifyPassword('', hash)).toBe(false)
    expect(await hashPassword('correct horse')).not.toBe(hash)
    expect(await verifyPassword('x', 'plain-text')).toBe(false)
    await expect(hashPassword('')).rejects.toThrow('empty')
  })
})

describe('AUTH_FILE', () => {
  it('refuses plain passwords, unknown roles, bad printer ids and unknown fields, naming each', async () => {
    const good = await hashPassword('pw')
    const text = JSON.stringify({ users: {
      alice: { password: 'hunter2', role: 'client', printers: ['lobby'] },
      bob: { password: good, role: 'boss', printers: ['lobby'] },
      carol: { password: good, role: 'client', printers: ['no/slash'] },
      dave: { password: good, role: 'client', printers: ['lobby'], extra: true }
    } })
    let error: unknown
    try { parseAuthFile(text, 'auth.json') } catch (e) { error = e }
    expect(error).toBeInstanceOf(PrintwireError)
    expect(error).toMatchObject({ code: 'INVALID_AUTH_FILE' })
    const message = (error as Error).message
    expect(message).toContain('users.alice.password')
    expect(message).toContain('users.bob.role')
    expect(message).toContain('users.carol.printers.0')
    expect(message).toContain('users.dave')
    expect(() => parseAuthFile('{', 'auth.json')).toThrow('not valid JSON')
  })
})

describe('printwire user', () => {
  it('adds, updates, lists and removes users in a 0600 file that holds only hashes', async () => {
    const file = path.join(await tempDir(cleanup), 'auth.json')
    expect((await cli('user', 'add', 'alice', '--password', 's3cret', '--role', 'client', '--printers', 'lobby,bar', '--file', file)).stdout).toContain('added alice')
    expect((await cli('user', 'add', 'relay1', '--password', 'r', '--role', 'relay', '--printers', '*', '--file', file)).code).toBe(0)
    expect((await cli('user', 'add', 'alice', '--password', 'n3w', '--role', 'admin', '--printers', '*', '--file', file)).stdout).toContain('updated alice')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const raw = await readFile(file, 'utf8')
    expect(raw).not.toContain('s3cret')
    expect(raw).not.toContain('n3w')
    const auth = await readAuthFile(file)
    expect(await verifyPassword('n3w', auth.users.alice!.password)).toBe(true)
    expect((await cli('user', 'list', '--file', file)).stdout.trim().split('\n')).toEqual(['alice\tadmin\t*', 'relay1\trelay\t*'])
    expect((await cli('user', 'remove', 'relay1', '--file', file)).code).toBe(0)
    expect((await cli('user', 'list', '--file', file)).stdout.trim()).toBe('alice\tadmin\t*')
  })

  it('refuses bad roles, printers and names, and a remove of nobody, without touching the file', async () => {
    const file = path.join(await tempDir(cleanup), 'auth.json')
    await cli('user', 'add', 'alice', '--password', 'pw', '--role', 'client', '--printers', 'lobby', '--file', file)
    const before = await readFile(file, 'utf8')
    const bad = [
      ['user', 'add', 'bob', '--password', 'pw', '--role', 'boss', '--printers', 'lobby', '--file', file],
      ['user', 'add', 'bob', '--password', 'pw', '--role', 'client', '--printers', 'lo/bby', '--file', file],
      ['user', 'add', 'bob', '--password', 'pw', '--role', 'client', '--printers', ',', '--file', file],
      ['user', 'add', 'b o b', '--password', 'pw', '--role', 'client', '--printers', 'lobby', '--file', file],
      ['user', 'add', 'bob', '--password', '', '--role', 'client', '--printers', 'lobby', '--file', file],
      ['user', 'remove', 'nobody', '--file', file]
    ]
    for (const args of bad) {
      const result = await cli(...args)
      expect(result.code, args.join(' ')).toBe(1)
      expect(result.stderr).toMatch(/printwire: /)
    }
    expect(await readFile(file, 'utf8')).toBe(before)
    await writeFile(file, '{"users": {"x": {"password": "plain", "role": "client", "printers": ["a"]}}}')
    const listed = await cli('user', 'list', '--file', file)
    expect(listed.code).toBe(1)
    expect(listed.stderr).toContain('INVALID_AUTH_FILE')
  })
})

describe('Mosquitto password hashes', () => {
  it('reads hashes made by Debian\'s mosquitto_passwd, and makes ones in the same $7$ format', async () => {
    const dir = await tempDir(cleanup)
    await run('mosquitto_passwd', ['-c', '-b', `${dir}/pw`, 'alice', 'secret pw'])
    const theirs = (await readFile(`${dir}/pw`, 'utf8')).trim().split(':')[1] ?? ''
    expect(isMosquittoHash(theirs)).toBe(true)
    expect(await verifyMosquittoPassword('secret pw', theirs)).toBe(true)
    expect(await verifyMosquittoPassword('secret pX', theirs)).toBe(false)
    const ours = await hashMosquittoPassword('secret pw')
    expect(ours).toMatch(/^\$7\$1000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/)
    expect(await verifyMosquittoPassword('secret pw', ours)).toBe(true)
  })
})

describe('printwire mosquitto-export', () => {
  it('writes a 0600 password file and an ACL file with the same grants as the embedded broker', async () => {
    const dir = await tempDir(cleanup)
    const file = path.join(dir, 'auth.json')
    expect((await cli('user', 'add', 'alice', '--password', 'pw-a', '--role', 'client', '--printers', 'lobby', '--file', file)).code).toBe(0)
    expect((await cli('user', 'add', 'venue', '--password', 'pw-v', '--role', 'relay', '--printers', 'lobby,bar', '--file', file)).code).toBe(0)
    const out = path.join(dir, 'mosquitto')
    const result = await cli('mosquitto-export', '--file', file, '--out', out)
    expect(result.code, result.stderr).toBe(0)
    const passwords = await readFile(path.join(out, 'passwords'), 'utf8')
    expect(passwords.split('\n').filter((l) => l !== '').map((l) => l.split(':')[0])).toEqual(['alice', 'venue'])
    expect(await verifyMosquittoPassword('pw-a', passwords.split('\n')[0]?.split(':')[1] ?? '')).toBe(true)
    expect((await stat(path.join(out, 'passwords'))).mode & 0o777).toBe(0o600)
    const acl = await readFile(path.join(out, 'acl'), 'utf8')
    const rules = acl.split('\n').filter((l) => /^(user|topic) /.test(l))
    expect(rules).toEqual([
      'user alice',
      'topic write printers/lobby/jobs', 'topic write printers/lobby/cancel', 'topic read printers/lobby/responses', 'topic read printers/lobby/errors', 'topic read printers/lobby/status', 'topic read server/time',
      'user venue',
      'topic read printers/lobby/jobs', 'topic read printers/lobby/cancel', 'topic write printers/lobby/responses', 'topic write printers/lobby/errors', 'topic write printers/lobby/status',
      'topic read printers/bar/jobs', 'topic read printers/bar/cancel', 'topic write printers/bar/responses', 'topic write printers/bar/errors', 'topic write printers/bar/status',
      'topic read server/time'
    ])
  })

  it('refuses a user without a Mosquitto hash, naming it, and writes nothing', async () => {
    const dir = await tempDir(cleanup)
    const file = path.join(dir, 'auth.json')
    await writeFile(file, JSON.stringify({ users: { old: { password: await hashPassword('pw'), role: 'client', printers: ['lobby'] } } }))
    const result = await cli('mosquitto-export', '--file', file, '--out', path.join(dir, 'out'))
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/CANNOT_EXPORT: .*no Mosquitto hash for old.*printwire user add/)
    await expect(stat(path.join(dir, 'out', 'passwords'))).rejects.toThrow(/ENOENT/)
  })
})
