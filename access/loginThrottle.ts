/**
 * Backoff on password log-ins, so that guessing costs time (issue #10: 200 wrong passwords at 49 a second
 * from one address, then the right one accepted at once). Every log-in with a user name and password goes
 * through `attempt()`: the MQTT broker's today, the HTTP API's later, with the same instance.
 *
 * Wrong passwords are counted, over LOGIN_FAILURE_WINDOW_MS, in three places:
 * - per address (an IPv6 /64 counts as one address): after LOGIN_FAILURES_PER_ADDRESS, that address may not
 *   log in at all for LOGIN_BLOCK_MS, whichever user it names;
 * - per user and address: after LOGIN_FAILURES_PER_USER_ADDRESS, that address may not log in as that user for
 *   LOGIN_BLOCK_MS. A success from that address forgets its failures for that user;
 * - per user, from every address: after LOGIN_FAILURES_PER_USER (many addresses guessing one user), every
 *   address is allowed a single wrong password for that user per window instead of the usual allowance. The
 *   user is never blocked as such: a flood from address A against user U does not stop U at address B.
 * A refused attempt checks no password, so the refusal says nothing about the password it carried, and is
 * not counted (a blocked relay retrying does not extend its own block). Guesses in flight count as failures
 * until answered, so a thousand CONNECTs sent at once get no more guesses than a thousand in a row;
 * identical ones (a relay's connections for several printers, one password) count once.
 *
 * Counters are in this process's memory (rate-limiter-flexible's RateLimiterMemory, each key expiring with
 * its window or block): a restart forgets them, and broker processes sharing one Redis count apart.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { isIPv6 } from 'node:net'
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible'
import type { LoginRefusal, LoginResult } from './accessControl.ts'

export interface LoginThrottleLimits {
  failuresPerAddress: number
  failuresPerUserAddress: number
  failuresPerUser: number
  windowMs: number
  blockMs: number
}

export interface LoginThrottleDeps {
  limits: LoginThrottleLimits
}

/** TOO_MANY_FAILURES: refused without a password check, for `retryAfterMs`. */
export type ThrottledRefusal = LoginRefusal | 'TOO_MANY_FAILURES'

/** The log-in's own result (a token's principal and expiry too), or TOO_MANY_FAILURES. */
export interface ThrottledLoginResult extends Omit<LoginResult, 'refusal'> {
  refusal?: ThrottledRefusal
  /** With TOO_MANY_FAILURES: how long until this address may try again. */
  retryAfterMs?: number
  /** With TOO_MANY_FAILURES: which count refused it. */
  limit?: 'address' | 'user-address'
}

/** One guess (user, password, address) being checked, shared by identical ones that arrive meanwhile. */
interface Guess {
  attempts: number
  failed: boolean
  addressKey: string
  userAddressKey: string
  /** Why it may not be checked, or undefined if it may. */
  admission: Promise<Refusal | undefined>
}

interface Refusal {
  limit: 'address' | 'user-address'
  retryAfterMs: number
}

/** The limits from the LOGIN_* settings (runtime/configFields.ts). */
export function loginLimitsOf (config: { LOGIN_FAILURES_PER_ADDRESS: number, LOGIN_FAILURES_PER_USER_ADDRESS: number, LOGIN_FAILURES_PER_USER: number, LOGIN_FAILURE_WINDOW_MS: number, LOGIN_BLOCK_MS: number }): LoginThrottleLimits {
  return {
    failuresPerAddress: config.LOGIN_FAILURES_PER_ADDRESS,
    failuresPerUserAddress: config.LOGIN_FAILURES_PER_USER_ADDRESS,
    failuresPerUser: config.LOGIN_FAILURES_PER_USER,
    windowMs: config.LOGIN_FAILURE_WINDOW_MS,
    blockMs: config.LOGIN_BLOCK_MS
  }
}

export class LoginThrottle {
  private readonly limits: LoginThrottleLimits
  private readonly byAddress: RateLimiterMemory
  private readonly byUserAddress: RateLimiterMemory
  private readonly byUser: RateLimiterMemory
  /** Keys are HMACs under this process's own key: user names of any length take 22 characters, passwords never appear. */
  private readonly keyKey = randomBytes(32)
  private readonly guesses = new Map<string, Guess>()
  /** Guesses in flight, per address and per user-and-address key. */
  private readonly pending = new Map<string, Set<string>>()

  constructor (deps: LoginThrottleDeps) {
    const { limits } = deps
    this.limits = limits
    const seconds = (ms: number): number => ms / 1000
    // The library refuses the consume *after* `points`, and blocks from then on: points = limit - 1.
    this.byAddress = new RateLimiterMemory({ keyPrefix: '', points: limits.failuresPerAddress - 1, duration: seconds(limits.windowMs), blockDuration: seconds(limits.blockMs) })
    this.byUserAddress = new RateLimiterMemory({ keyPrefix: '', points: limits.failuresPerUserAddress - 1, duration: seconds(limits.windowMs), blockDuration: seconds(limits.blockMs) })
    this.byUser = new RateLimiterMemory({ keyPrefix: '', points: limits.failuresPerUser - 1, duration: seconds(limits.windowMs) })
  }

  /**
   * Runs `login` unless `address` has used up its failures (for `username`, or for every user); counts its
   * answer. Log-ins without a user name or password are not guesses and pass straight through.
   */
  async attempt (username: string | undefined, password: Buffer | undefined, address: string | undefined, login: () => Promise<LoginResult>): Promise<ThrottledLoginResult> {
    if (username === undefined || username === '' || password === undefined) return await login()
    const addressKey = addressGroup(address)
    const userKey = this.digest(username)
    const userAddressKey = `${userKey}@${addressKey}`
    const guessKey = `${userAddressKey}#${createHmac('sha256', this.keyKey).update(username).update('\0').update(password).digest('base64url')}`

    let guess = this.guesses.get(guessKey)
    if (guess === undefined) {
      // The same guess arriving while one is checked shares its verdict and its answer: it adds no information.
      guess = { attempts: 0, failed: false, addressKey, userAddressKey, admission: this.admit(addressKey, userAddressKey, userKey) }
      this.addGuess(guessKey, guess)
    }
    guess.attempts++
    const refusal = await guess.admission
    if (refusal !== undefined) {
      this.settle(guessKey, guess)
      return { ok: false, refusal: 'TOO_MANY_FAILURES', ...refusal }
    }

    try {
      const result = await login()
      if (result.refusal === 'BAD_CREDENTIALS' && !guess.failed) {
        guess.failed = true
        // A refused consume is the library saying "blocked from now": the count is taken either way.
        await Promise.all([
          this.byAddress.consume(addressKey).catch(() => {}),
          this.byUserAddress.consume(userAddressKey).catch(() => {}),
          this.byUser.consume(userKey).catch(() => {})
        ])
      } else if (result.ok) {
        await this.byUserAddress.delete(userAddressKey)
      }
      return result
    } finally {
      this.settle(guessKey, guess)
    }
  }

  /**
   * Whether a new guess may be checked: failures counted, plus the other guesses still in flight, which are
   * read before anything is awaited (so before this guess counts as pending itself), while the attempts
   * arriving together are still in order.
   */
  private async admit (addressKey: string, userAddressKey: string, userKey: string): Promise<Refusal | undefined> {
    const othersAtAddress = this.pendingCount(addressKey)
    const othersAsUser = this.pendingCount(userAddressKey)
    const [atAddress, asUser, ofUser] = await Promise.all([this.byAddress.get(addressKey), this.byUserAddress.get(userAddressKey), this.byUser.get(userKey)])
    if (consumed(atAddress) + othersAtAddress >= this.limits.failuresPerAddress) return { limit: 'address', retryAfterMs: retryAfter(atAddress) }
    const allowance = consumed(ofUser) >= this.limits.failuresPerUser ? 1 : this.limits.failuresPerUserAddress
    if (consumed(asUser) + othersAsUser >= allowance) return { limit: 'user-address', retryAfterMs: retryAfter(asUser) }
    return undefined
  }

  private digest (text: string): string {
    return createHmac('sha256', this.keyKey).update(text).digest('base64url').slice(0, 22)
  }

  private pendingCount (key: string): number {
    return this.pending.get(key)?.size ?? 0
  }

  private addGuess (guessKey: string, guess: Guess): void {
    this.guesses.set(guessKey, guess)
    for (const key of [guess.addressKey, guess.userAddressKey]) {
      let set = this.pending.get(key)
      if (set === undefined) this.pending.set(key, set = new Set())
      set.add(guessKey)
    }
  }

  /** One attempt of `guess` is over; the last one removes it from the pending counts. */
  private settle (guessKey: string, guess: Guess): void {
    if (--guess.attempts > 0) return
    this.guesses.delete(guessKey)
    for (const key of [guess.addressKey, guess.userAddressKey]) {
      const set = this.pending.get(key)
      set?.delete(guessKey)
      if (set?.size === 0) this.pending.delete(key)
    }
  }
}

function consumed (res: RateLimiterRes | null): number {
  return res?.consumedPoints ?? 0
}

function retryAfter (res: RateLimiterRes | null): number {
  return Math.max(0, res?.msBeforeNext ?? 0)
}

/**
 * The address failures are counted against: IPv4 as it is (an IPv4-mapped IPv6 address as its IPv4), IPv6 by
 * its /64, which one machine usually has whole.
 */
export function addressGroup (address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return mapped[1] as string
  if (!isIPv6(address)) return address
  const [head = '', tail = ''] = address.split('%')[0]!.toLowerCase().split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : []
  const groups = address.includes('::') ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups] : headGroups
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`
}
