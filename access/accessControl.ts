/**
 * The broker's view of AUTH_FILE: checks user names and passwords, and answers what a user may publish,
 * read and subscribe to (rules in policy.ts). The file is read and validated at start-up (an invalid
 * file stops the broker with every problem named) and read again whenever it changes, so
 * `printwire user add|remove` takes effect without a restart; a change that does not validate is
 * logged and ignored, keeping the users already loaded.
 *
 * Rules are looked up by user name at each check, so a change applies at once to connected clients;
 * A 'usersChanged' event names the users whose entry changed or went away so the broker can disconnect them.
 *
 * scrypt costs tens of milliseconds of CPU per check, which a broker restart with thousands of relays
 * reconnecting would pay thousands of times: a password that verified once is remembered as an HMAC
 * under a key that lives only in this process, for as long as that user's hash is unchanged.
 *
 * Browser tokens (access/tokens.ts) log in too: a token-shaped password, with any user name, is checked as a
 * token (an HMAC: no scrypt) and the connection is then `token:<issuer>:<printers>` (tokens.ts
 * `tokenPrincipal`), a client of the token's printers. Its rules are looked up by that name like a user's,
 * and last only as long as the issuer is in AUTH_FILE with the right to those printers.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { watch, type FSWatcher } from 'node:fs'
import path from 'node:path'
import { LEGACY_RELAY_CLIENT_ID_PREFIX, parseRelayClientId, PrintwireError, RELAY_CLIENT_ID_PREFIX } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { authFileError, readAuthFile, type AuthFile, type AuthUser } from './authFile.ts'
import { hashPassword, verifyPassword } from './passwordHash.ts'
import { grantsFor, mayPublish, mayRead, maySubscribe, readableTopicsOf, type Grant } from './policy.ts'
import { isTokenShaped, issueToken, mayIssueFor, parseTokenPrincipal, tokenPrincipal, verifyToken, type IssuedToken, type TokenRefusal, type TokenRequest } from './tokens.ts'

export interface AccessControlDeps {
  file: string
  topicPrefix: string
  logger: Logger
  /** Signs and checks browser tokens (broker/tokenSecret.ts); without it, tokens are refused. */
  tokenSecret?: Buffer | undefined
}

/** 'usersChanged': after a reload, the users whose entry changed or was removed. */
interface AccessControlEvents {
  usersChanged: [users: string[]]
}

/**
 * Why a connection was refused; `code` maps to the MQTT CONNACK return code. A token that is forged, altered,
 * of another secret or not a token at all is BAD_CREDENTIALS (a guess, counted by the log-in throttle); one
 * whose time is over is TOKEN_EXPIRED, one whose issuer left AUTH_FILE or lost those printers TOKEN_NOT_ALLOWED.
 */
export type LoginRefusal = 'NO_CREDENTIALS' | 'BAD_CREDENTIALS' | 'CLIENT_ID_RESERVED' | 'TOKEN_EXPIRED' | 'TOKEN_NOT_ALLOWED'

export interface LoginResult {
  ok: boolean
  refusal?: LoginRefusal
  /** With a token: why it was refused, for the log (never the token). */
  tokenRefusal?: TokenRefusal
  /** With a token: the name the connection goes by (`token:<issuer>:<printers>`), and when it must end (Unix ms). */
  principal?: string
  expiresAt?: number
}

interface LoadedUser {
  user: AuthUser
  grants: Grant[]
  /** Topic → may read, as answered before (a reload makes new entries, so new answers). */
  readable: Map<string, boolean>
}

/** Remembered read answers per user; past this the memory starts over. */
const READ_CACHE_ENTRIES = 50_000

const RELOAD_DEBOUNCE_MS = 100

export class AccessControl extends EventEmitter<AccessControlEvents> {
  private readonly deps: AccessControlDeps
  private users = new Map<string, LoadedUser>()
  /** Token connections' rules by name (tokens.ts `tokenPrincipal`), made on first use; emptied at each reload. */
  private tokenUsers = new Map<string, LoadedUser>()
  private readonly verified = new Map<string, { hash: string, digest: Buffer }>()
  private readonly cacheKey = randomBytes(32)
  /** Checks under way, by user and password digest: identical log-ins arriving together share one. */
  private readonly inFlight = new Map<string, Promise<boolean>>()
  /** scrypt checks actually run (not answered from memory), for operators and tests. */
  passwordChecks = 0
  private watcher: FSWatcher | undefined
  private reloadTimer: NodeJS.Timeout | undefined
  /** Checked against when the user does not exist, so an unknown name costs as long as a wrong password. */
  private decoyHash: string | undefined

  constructor (deps: AccessControlDeps) {
    super()
    this.deps = deps
  }

  async start (): Promise<void> {
    this.users = this.load(await readAuthFile(this.deps.file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error
      throw authFileError(`AUTH_FILE ${this.deps.file} does not exist: create it with \`npx printwire user add <name> --password <pw> --role <role> --printers <ids> --file ${this.deps.file}\``)
    }))
    this.decoyHash = await hashPassword(randomBytes(16).toString('hex'))
    // Watch the directory: `user add` replaces the file by renaming a new one over it.
    const dir = path.dirname(path.resolve(this.deps.file))
    const base = path.basename(this.deps.file)
    this.watcher = watch(dir, (_event, name) => { if (name === null || name === base) this.scheduleReload() })
    this.watcher.on('error', (error) => this.deps.logger.error({ err: error, file: this.deps.file }, 'cannot watch AUTH_FILE; changes need a restart'))
    this.deps.logger.info({ file: this.deps.file, users: this.users.size }, 'AUTH_FILE loaded: clients must log in')
  }

  async stop (): Promise<void> {
    this.watcher?.close()
    clearTimeout(this.reloadTimer)
  }

  get userCount (): number {
    return this.users.size
  }

  async login (username: string | undefined, password: Buffer | undefined, clientId: string, now = Date.now()): Promise<LoginResult> {
    if (password !== undefined && isTokenShaped(password)) return this.tokenLogin(password.toString('utf8'), clientId, now)
    if (username === undefined || username === '' || password === undefined) return { ok: false, refusal: 'NO_CREDENTIALS' }
    const loaded = this.users.get(username)
    const secret = password.toString('utf8')
    if (loaded === undefined) {
      await verifyPassword(secret, this.decoyHash ?? '')
      return { ok: false, refusal: 'BAD_CREDENTIALS' }
    }
    if (!await this.checkPassword(username, secret, loaded.user.password)) return { ok: false, refusal: 'BAD_CREDENTIALS' }
    if (!mayUseClientId(loaded.user, clientId)) return { ok: false, refusal: 'CLIENT_ID_RESERVED' }
    return { ok: true }
  }

  /** A token as the password (any user name): checked without scrypt; see LoginRefusal. */
  private tokenLogin (token: string, clientId: string, now: number): LoginResult {
    const secret = this.deps.tokenSecret
    if (secret === undefined) return { ok: false, refusal: 'BAD_CREDENTIALS', tokenRefusal: 'OTHER_SECRET' }
    const check = verifyToken(secret, token, now)
    if (!check.ok) return { ok: false, refusal: check.refusal === 'EXPIRED' ? 'TOKEN_EXPIRED' : 'BAD_CREDENTIALS', tokenRefusal: check.refusal }
    const principal = tokenPrincipal(check.grant)
    const loaded = this.loaded(principal)
    if (loaded === undefined) return { ok: false, refusal: 'TOKEN_NOT_ALLOWED', principal }
    if (!mayUseClientId(loaded.user, clientId)) return { ok: false, refusal: 'CLIENT_ID_RESERVED', principal }
    return { ok: true, principal, expiresAt: check.grant.expiresAt }
  }

  /**
   * A token for `username` (an AUTH_FILE user, already authenticated by the caller). Throws PrintwireError
   * INVALID_TOKEN_REQUEST, FORBIDDEN (printers the user may not give), or NOT_FOUND (no such user, no secret).
   */
  issueToken (username: string, request: TokenRequest, now = Date.now()): IssuedToken {
    const loaded = this.users.get(username)
    if (loaded === undefined) throw new PrintwireError('NOT_FOUND', `no user ${username} in AUTH_FILE`)
    if (this.deps.tokenSecret === undefined) throw new PrintwireError('NOT_FOUND', 'browser tokens need a signing secret (broker/tokenSecret.ts)')
    return issueToken(this.deps.tokenSecret, { name: username, role: loaded.user.role, printers: loaded.user.printers }, request, now)
  }

  /** A user's entry, or a token connection's (its issuer still in AUTH_FILE with the right to its printers). */
  private loaded (name: string): LoadedUser | undefined {
    const user = this.users.get(name)
    if (user !== undefined) return user
    const known = this.tokenUsers.get(name)
    if (known !== undefined) return known
    const token = parseTokenPrincipal(name)
    if (token === undefined) return undefined
    const issuer = this.users.get(token.issuer)
    if (issuer === undefined || !mayIssueFor(issuer.user, token.printers)) return undefined
    const loaded = { user: { password: '', role: 'client' as const, printers: token.printers }, grants: grantsFor({ role: 'client', printers: token.printers }, this.deps.topicPrefix), readable: new Map() }
    if (this.tokenUsers.size >= READ_CACHE_ENTRIES) this.tokenUsers.clear()
    this.tokenUsers.set(name, loaded)
    return loaded
  }

  get topicPrefix (): string {
    return this.deps.topicPrefix
  }

  /** The user's printers (`*`: all), undefined for an unknown user. */
  printersOf (username: string): readonly string[] | undefined {
    return this.loaded(username)?.user.printers
  }

  /** The user's role, undefined for an unknown user. */
  roleOf (username: string): AuthUser['role'] | undefined {
    return this.loaded(username)?.user.role
  }

  mayPublish (username: string, topic: string): boolean {
    const loaded = this.loaded(username)
    return loaded !== undefined && mayPublish(loaded.grants, topic)
  }

  /** Asked for every message delivered to every subscriber: answers are remembered per user (bounded). */
  mayRead (username: string, topic: string): boolean {
    const loaded = this.loaded(username)
    if (loaded === undefined) return false
    const known = loaded.readable.get(topic)
    if (known !== undefined) return known
    const answer = mayRead(loaded.grants, topic)
    if (loaded.readable.size >= READ_CACHE_ENTRIES) loaded.readable.clear()
    loaded.readable.set(topic, answer)
    return answer
  }

  maySubscribe (username: string, filter: string): boolean {
    const loaded = this.loaded(username)
    return loaded !== undefined && maySubscribe(loaded.grants, filter)
  }

  /** See policy.ts `readableTopicsOf`. */
  readableTopicsOf (username: string, filter: string): string[] | undefined {
    const loaded = this.loaded(username)
    return loaded === undefined ? undefined : readableTopicsOf(loaded.grants, filter)
  }

  private async checkPassword (username: string, password: string, hash: string): Promise<boolean> {
    const digest = createHmac('sha256', this.cacheKey).update(username).update('\0').update(password).digest()
    const known = this.verified.get(username)
    if (known !== undefined && known.hash === hash && timingSafeEqual(known.digest, digest)) return true
    // Thousands of relays reconnecting at once after a restart present the same credentials together: one
    // scrypt answers them all, rather than one each before the first has filled the cache.
    const key = `${username}\0${digest.toString('base64')}\0${hash}`
    let verifying = this.inFlight.get(key)
    if (verifying === undefined) {
      this.passwordChecks++
      verifying = verifyPassword(password, hash).then((good) => {
        if (good) this.verified.set(username, { hash, digest })
        return good
      }).finally(() => this.inFlight.delete(key))
      this.inFlight.set(key, verifying)
    }
    return await verifying
  }

  private load (auth: AuthFile): Map<string, LoadedUser> {
    const users = new Map<string, LoadedUser>()
    for (const [name, user] of Object.entries(auth.users)) users.set(name, { user, grants: grantsFor(user, this.deps.topicPrefix), readable: new Map() })
    return users
  }

  private scheduleReload (): void {
    clearTimeout(this.reloadTimer)
    this.reloadTimer = setTimeout(() => { void this.reload() }, RELOAD_DEBOUNCE_MS)
  }

  private async reload (): Promise<void> {
    const { logger, file } = this.deps
    let next: Map<string, LoadedUser>
    try {
      next = this.load(await readAuthFile(file))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') logger.error({ file }, 'AUTH_FILE is gone: keeping the users already loaded')
      else logger.error({ err: error, file }, 'AUTH_FILE changed but is not valid: keeping the users already loaded')
      return
    }
    const changed = [...this.users].filter(([name, old]) => !sameUser(old.user, next.get(name)?.user)).map(([name]) => name)
    this.users = next
    this.tokenUsers = new Map()
    for (const name of changed) this.verified.delete(name)
    logger.info({ file, users: next.size, changed: changed.length }, 'AUTH_FILE reloaded')
    if (changed.length > 0) this.emit('usersChanged', changed)
  }
}

function sameUser (a: AuthUser, b: AuthUser | undefined): boolean {
  return b !== undefined && a.password === b.password && a.role === b.role &&
    a.printers.length === b.printers.length && a.printers.every((p, i) => p === b.printers[i])
}

/**
 * Relay client ids (`printwire-relay:<relay>:<printer>`, protocol/topics.ts) hold a relay's persistent session:
 * taking one over would disconnect the relay and receive its queued jobs. Only an admin, or a relay user whose
 * printers include the id's printer, may use one; malformed relay ids are kept for admins.
 *
 * The earlier form, `printwire-relay-<relay>-<printer>`, is ambiguous: both parts may hold `-`. A relay of this
 * version connects with it once, to take what is still queued there and end that session (legacySession.ts).
 * Here a relay user passes with such an id; the broker then lets it in only if the id is the earlier form of
 * the relay that holds one of that user's printers (accessHooks.ts), which the relay claimed under its exact id.
 */
function mayUseClientId (user: Pick<AuthUser, 'role' | 'printers'>, clientId: string): boolean {
  const relayId = clientId.startsWith(RELAY_CLIENT_ID_PREFIX)
  const legacy = !relayId && clientId.startsWith(LEGACY_RELAY_CLIENT_ID_PREFIX)
  if ((!relayId && !legacy) || user.role === 'admin') return true
  if (user.role !== 'relay') return false
  if (legacy) return true
  const relay = parseRelayClientId(clientId)
  return relay !== null && (user.printers.includes('*') || user.printers.includes(relay.printerId))
}
