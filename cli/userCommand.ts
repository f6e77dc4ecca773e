/** `printwire user add|remove|list`: manages AUTH_FILE (SPEC "Access"). */
import { hashMosquittoPassword } from '../access/mosquittoPassword.ts'
import { hashPassword } from '../access/passwordHash.ts'
import { readAuthFile, readOrCreateAuthFile, ROLES, USER_NAME_PATTERN, writeAuthFile, type Role } from '../access/authFile.ts'
import { isValidPrinterId, PrintwireError } from '../protocol/index.ts'

/** A command-line argument that breaks a rule, named by its flag (exit 1, `INVALID_ARGUMENT: ...`). */
function argumentError (message: string): PrintwireError<'INVALID_ARGUMENT'> {
  return new PrintwireError('INVALID_ARGUMENT', message)
}

export function parsePrinterList (value: string): string[] {
  const printers = value.split(',').map((p) => p.trim()).filter((p) => p !== '')
  const bad = printers.filter((p) => p !== '*' && !isValidPrinterId(p))
  if (printers.length === 0) throw argumentError('--printers must name at least one printer, or *')
  if (bad.length > 0) throw argumentError(`--printers: ${bad.map((p) => `"${p}"`).join(', ')} is not a printer id (1-64 characters of A-Z a-z 0-9 _ -) or *`)
  return [...new Set(printers)]
}

export async function addUser (file: string, name: string, options: { password: string, role: string, printers: string }): Promise<'added' | 'updated'> {
  if (!USER_NAME_PATTERN.test(name)) throw argumentError(`user name "${name}" must be 1-64 characters of A-Z a-z 0-9 . _ @ -`)
  if (!(ROLES as readonly string[]).includes(options.role)) throw argumentError(`--role must be one of ${ROLES.join(', ')}`)
  const printers = parsePrinterList(options.printers)
  const auth = await readOrCreateAuthFile(file)
  const existed = Object.hasOwn(auth.users, name)
  auth.users[name] = {
    password: await hashPassword(options.password),
    mosquittoPassword: await hashMosquittoPassword(options.password),
    role: options.role as Role,
    printers
  }
  await writeAuthFile(file, auth)
  return existed ? 'updated' : 'added'
}

export async function removeUser (file: string, name: string): Promise<void> {
  const auth = await readAuthFile(file)
  if (!Object.hasOwn(auth.users, name)) throw argumentError(`no user "${name}" in ${file}`)
  delete auth.users[name]
  await writeAuthFile(file, auth)
}

/** One line per user: name, role, printers. Never the hashes. */
export async function listUsers (file: string): Promise<string[]> {
  const auth = await readAuthFile(file)
  return Object.entries(auth.users).map(([name, user]) => `${name}\t${user.role}\t${user.printers.join(',')}`)
}
