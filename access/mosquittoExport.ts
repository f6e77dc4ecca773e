/**
 * `printwire mosquitto-export`: AUTH_FILE as Mosquitto's `password_file` and `acl_file`, so Mosquitto
 * enforces the same users and the same rules as the embedded broker. The ACL lines are the grants of
 * policy.ts, written as they are: one source for both brokers.
 */
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PrintwireError } from '../protocol/index.ts'
import type { AuthFile } from './authFile.ts'
import { grantsFor } from './policy.ts'

export const PASSWORD_FILE_NAME = 'passwords'
export const ACL_FILE_NAME = 'acl'


export interface MosquittoFiles {
  passwordFile: string
  aclFile: string
}

export function mosquittoFiles (auth: AuthFile, topicPrefix: string, source: string): MosquittoFiles {
  const users = Object.entries(auth.users)
  const missing = users.filter(([, user]) => user.mosquittoPassword === undefined).map(([name]) => name)
  if (missing.length > 0) {
    throw new PrintwireError('CANNOT_EXPORT', `${source}: no Mosquitto hash for ${missing.join(', ')}: set the password again with \`printwire user add\``)
  }
  const header = `# Written by \`printwire mosquitto-export\` from ${path.basename(source)}: edit that file and export again.\n`
  const passwordFile = users.map(([name, user]) => `${name}:${user.mosquittoPassword as string}\n`).join('')
  const acl = users.map(([name, user]) => {
    const lines = grantsFor(user, topicPrefix).map((g) => `topic ${g.access} ${g.filter}`)
    return `\n# ${user.role} of ${user.printers.join(', ')}\nuser ${name}\n${lines.join('\n')}\n`
  })
  return { passwordFile, aclFile: header + '# Anything not granted here is denied.\n' + acl.join('') }
}

/** Writes both files into `dir` (created if needed), each atomically, mode 0600. */
export async function writeMosquittoFiles (dir: string, files: MosquittoFiles): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const written: string[] = []
  for (const [name, text] of [[PASSWORD_FILE_NAME, files.passwordFile], [ACL_FILE_NAME, files.aclFile]] as const) {
    const target = path.join(dir, name)
    const temp = `${target}.${process.pid}.tmp`
    await writeFile(temp, text, { mode: 0o600 })
    await chmod(temp, 0o600)
    await rename(temp, target)
    written.push(target)
  }
  return written
}
