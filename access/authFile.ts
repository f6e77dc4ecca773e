/**
 * AUTH_FILE (SPEC "Access"): users with scrypt-hashed passwords, a role, and the printers each may use
 * (`*` for all). Read and validated as a whole (every problem named), written atomically with mode 0600.
 */
import { chmod, readFile, rename, writeFile } from 'node:fs/promises'
import { z } from 'zod'
import { isValidPrinterId, PrintwireError } from '../protocol/index.ts'
import { isMosquittoHash } from './mosquittoPassword.ts'
import { isPasswordHash } from './passwordHash.ts'

export const ROLES = ['client', 'relay', 'admin'] as const
export type Role = (typeof ROLES)[number]

export const USER_NAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/

const userSchema = z.strictObject({
  password: z.string().refine(isPasswordHash, 'must be a scrypt hash made by `printwire user add`, never a plain password'),
  /** The same password in Mosquitto's `$7$` format, for `printwire mosquitto-export`. */
  mosquittoPassword: z.string().refine(isMosquittoHash, 'must be a Mosquitto $7$ hash made by `printwire user add`').optional(),
  role: z.enum(ROLES),
  printers: z.array(z.string().refine((p) => p === '*' || isValidPrinterId(p), 'must be a printer id or *')).min(1, 'must name at least one printer, or *')
})

export const authFileSchema = z.strictObject({
  users: z.record(z.string().regex(USER_NAME_PATTERN, 'user names are 1-64 characters of A-Z a-z 0-9 . _ @ -'), userSchema)
})

export type AuthUser = z.infer<typeof userSchema>
export type AuthFile = z.infer<typeof authFileSchema>

/** An AUTH_FILE that cannot be used: INVALID_AUTH_FILE. */
export function authFileError (message: string): PrintwireError<'INVALID_AUTH_FILE'> {
  return new PrintwireError('INVALID_AUTH_FILE', message)
}

export function parseAuthFile (text: string, source: string): AuthFile {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw authFileError(`${source}: not valid JSON: ${(error as Error).message}`)
  }
  const result = authFileSchema.safeParse(value)
  if (!result.success) {
    throw authFileError(`${source}: ${result.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ')}`)
  }
  return result.data
}

export async function readAuthFile (file: string): Promise<AuthFile> {
  return parseAuthFile(await readFile(file, 'utf8'), file)
}

/** Reads the file, or an empty one when it does not exist yet. */
export async function readOrCreateAuthFile (file: string): Promise<AuthFile> {
  try {
    return await readAuthFile(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { users: {} }
    throw error
  }
}

export async function writeAuthFile (file: string, auth: AuthFile): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`
  await writeFile(temp, JSON.stringify(auth, null, 2) + '\n', { mode: 0o600 })
  await chmod(temp, 0o600)
  await rename(temp, file)
}
