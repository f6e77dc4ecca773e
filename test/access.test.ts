/**
 * AUTH_FILE (SPEC "Access"): scrypt password hashes, the file's validation, and `printwire user add|remove|list`
 * run as the real command line.
 */
import { execFile } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { AuthFileError, parseAuthFile, readAuthFile } from '../access/authFile.ts'
import { hashPassword, isPasswordHash, verifyPassword } from '../access/passwordHash.ts'
import { Cleanup, tempDir } from './helpers/parts.ts'
import { ROOT } from './helpers/processes.ts'

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
    expect(error).toBeInstanceOf(AuthFileError)
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
