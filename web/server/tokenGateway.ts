/**
 * Browser tokens in Mosquitto mode (SPEC "Browser tokens"). Mosquitto cannot check a Printwire token, so the web
 * server does, for every MQTT connection that reaches the broker through it: the page's `/mqtt` (mqttProxy.ts)
 * and the HTTP API's Bearer callers (in process). Each connection's first packet must be a CONNECT:
 * - a password that is not token-shaped (a user of AUTH_FILE, or none): the bytes go on to Mosquitto unchanged,
 *   which checks the user with its own password and ACL files (`mosquitto-export`); its CONNACK is counted in the
 *   log-in backoff for the page's address (Mosquitto has none, and sees only this server's address);
 * - a token (any user name): checked here, through the same log-in backoff as the HTTP API's (a forged token is
 *   a wrong password). Refused: a CONNACK 4 (forged, altered, of another secret) or 5 (expired, its issuer gone),
 *   and the connection closes. Accepted: tokenSession.ts logs in to Mosquitto as the web server's own user and
 *   lets through only what the token grants, until it expires. Its client id is one of the gateway's
 *   (`pwt-<hash>`), so a token can never take over a relay's or a user's id.
 * Tokens are accepted here only: Mosquitto's own listeners (1883, 9001) know users and passwords, not tokens.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { generate, parser as packetParser, type IConnectPacket, type Packet } from 'mqtt-packet'
import type { AccessControl, LoginResult } from '../../access/accessControl.ts'
import type { LoginThrottle, ThrottledLoginResult } from '../../access/loginThrottle.ts'
import { isTokenShaped, parseTokenPrincipal, throttleNameFor } from '../../access/tokens.ts'
import { duplexPair } from '../../runtime/duplexPair.ts'
import type { Logger } from '../../runtime/logger.ts'
import { clipForLog } from '../../runtime/logText.ts'
import { PacketSizeGuard } from '../../runtime/packetSizeGuard.ts'
import { TokenSession } from './tokenSession.ts'

export interface TokenGatewayDeps {
  /** AUTH_FILE's users (a token's issuer must still be there) and the token secret; without it nothing is a token. */
  access: AccessControl | undefined
  throttle: LoginThrottle | undefined
  /** The web server's own log-in to the broker (MQTT_USERNAME, an admin): token connections log in as it. */
  login: { username: string, password: string } | undefined
  /** A new connection to the broker's MQTT (a WebSocket stream to BROKER_WS_URL). */
  upstream: () => Duplex
  /** The broker's largest packet: a larger one from a page closes its connection before it is buffered. */
  maxPacketBytes: number
  logger: Logger
}

/** How long a connection may take to send its CONNECT. */
export const CONNECT_WAIT_MS = 10_000
/** Packets a page may send after its CONNECT while the token is checked. */
const MAX_PENDING_PACKETS = 64
const UNACCEPTABLE_PROTOCOL_VERSION = 1
const IDENTIFIER_REJECTED = 2
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5
/** The broker's CONNACK codes that refuse a user name and password: MQTT 3.1.1's 4 and 5, MQTT 5's 0x86 and 0x87. */
const MQTT5_NOT_AUTHORIZED = 0x87
const WRONG_LOGIN_CODES = [BAD_USERNAME_OR_PASSWORD, NOT_AUTHORIZED, 0x86, MQTT5_NOT_AUTHORIZED]

export class TokenGateway {
  private readonly deps: TokenGatewayDeps
  private readonly sessions = new Set<TokenSession>()
  private readonly open = new Set<Duplex>()
  private readonly onUsersChanged = (users: string[]): void => this.closeIssuers(users)

  constructor (deps: TokenGatewayDeps) {
    this.deps = deps
  }

  /** Whether tokens are checked here: with AUTH_FILE, a signing secret and the web server's own user. */
  get enabled (): boolean {
    return this.deps.access !== undefined && this.deps.login !== undefined
  }

  async start (): Promise<void> {
    this.deps.access?.on('usersChanged', this.onUsersChanged)
  }

  async stop (): Promise<void> {
    this.deps.access?.off('usersChanged', this.onUsersChanged)
    for (const session of this.sessions) session.end()
    for (const stream of this.open) stream.destroy()
  }

  /** A connection from this process (the HTTP API's Bearer callers): the client's end; not behind the log-in backoff (the API's). */
  connectInProcess (): Duplex {
    const [client, server] = duplexPair()
    this.serve(server, undefined, { throttled: false })
    return client
  }

  /** Serves one connection: `downstream` is the page's side. */
  serve (downstream: Duplex, remote: string | undefined, { throttled }: { throttled: boolean }): void {
    const { logger, maxPacketBytes } = this.deps
    const page = new PacketSizeGuard({
      inner: downstream,
      remoteAddress: remote,
      maxPacketBytes,
      onOversize: (announcedBytes) => logger.warn({ remote, announcedBytes, limit: maxPacketBytes }, 'packet too large: connection closed')
    })
    page.on('error', () => page.destroy())
    this.open.add(page)
    page.once('close', () => { this.open.delete(page); downstream.destroy() })
    const received: Buffer[] = []
    const pending: Packet[] = []
    let session: TokenSession | undefined
    let connect: IConnectPacket | undefined
    let passingThrough = false
    const timer = setTimeout(() => { if (connect === undefined) page.destroy() }, CONNECT_WAIT_MS)
    timer.unref()
    page.once('close', () => clearTimeout(timer))

    const parser = packetParser({ protocolVersion: 4 })
    const onData = (chunk: Buffer): void => {
      if (connect === undefined) received.push(chunk)
      parser.parse(chunk)
    }
    parser.on('error', (error: Error) => { logger.info({ err: error, remote }, 'token gateway: malformed packet: connection closed'); page.destroy() })
    parser.on('packet', (packet: Packet) => {
      // (Packets parsed from the rest of the chunk that held the CONNECT of a connection passed through: sent already.)
      if (passingThrough) return
      if (session !== undefined) return session.fromPage(packet)
      if (connect !== undefined) {
        if (pending.length < MAX_PENDING_PACKETS) pending.push(packet)
        else page.destroy()
        return
      }
      if (packet.cmd !== 'connect') { page.destroy(); return }
      connect = packet
      clearTimeout(timer)
      if (!this.enabled || packet.password === undefined || !isTokenShaped(packet.password)) {
        passingThrough = true
        page.off('data', onData)
        page.pause()
        this.passThrough(page, Buffer.concat(received), packet, remote, throttled)
        return
      }
      received.length = 0
      if (packet.protocolVersion !== 4) {
        // The gateway reads and writes MQTT 3.1.1 (what Printwire speaks; the embedded broker refuses MQTT 5 too).
        logger.info({ remote, protocolVersion: packet.protocolVersion }, 'token gateway: connection refused: MQTT 3.1.1 only')
        page.end(generate({ cmd: 'connack', returnCode: UNACCEPTABLE_PROTOCOL_VERSION, sessionPresent: false }))
        return
      }
      if (packet.clientId === '' && !packet.clean) {
        // [MQTT-3.1.3-8]: a persistent session needs an id to be resumed by; a random one would be kept for no one.
        logger.info({ remote }, 'token gateway: connection refused: a persistent session without a client id')
        page.end(generate({ cmd: 'connack', returnCode: IDENTIFIER_REJECTED, sessionPresent: false }))
        return
      }
      this.checkToken(packet, remote, throttled).then((result) => {
        if (page.destroyed) return
        if (result.returnCode !== 0) {
          page.end(generate({ cmd: 'connack', returnCode: result.returnCode, sessionPresent: false }))
          return
        }
        if (!packet.clean) {
          // A token's connection is a clean session (a page's), as on the embedded broker: a persistent one would
          // outlive the token at Mosquitto, its queue kept for weeks, one per client id its holder makes up.
          logger.info({ remote, user: clipForLog(result.principal) }, 'token gateway: connection refused: a token\'s connection is a clean session')
          page.end(generate({ cmd: 'connack', returnCode: NOT_AUTHORIZED, sessionPresent: false }))
          return
        }
        session = this.admit(page, packet, result.principal, result.expiresAt)
        for (const queued of pending.splice(0)) session.fromPage(queued)
      }, (error: unknown) => {
        logger.error({ err: error, remote }, 'token gateway: log-in check failed')
        page.destroy()
      })
    })
    page.on('data', onData)
  }

  /**
   * A connection that is not a token's: what the page sent so far, then every byte both ways, unchanged. A page's
   * log-in goes through the log-in backoff all the same (Mosquitto has none, and sees only this server's address):
   * Mosquitto's CONNACK is its verdict, a refusal (4 or 5) counted as a wrong password for the page's address; an
   * address past its wrong log-ins gets CONNACK 5 here, and Mosquitto never sees the password.
   */
  private passThrough (page: Duplex, first: Buffer, connect: IConnectPacket, remote: string | undefined, throttled: boolean): void {
    const { throttle, logger } = this.deps
    if (!throttled || throttle === undefined) {
      this.pipeToBroker(page, first, connect.protocolVersion, undefined)
      return
    }
    const password = connect.password === undefined ? undefined : Buffer.from(connect.password)
    throttle.attempt(connect.username, password, remote, async () => await new Promise<LoginResult>((resolve) => {
      this.pipeToBroker(page, first, connect.protocolVersion, (returnCode) => resolve(returnCode === 0 ? { ok: true } : { ok: false, refusal: WRONG_LOGIN_CODES.includes(returnCode) ? 'BAD_CREDENTIALS' : 'NO_CREDENTIALS' }))
    })).then((result) => {
      if (result.refusal !== 'TOO_MANY_FAILURES' || page.destroyed) return
      logger.warn({ remote, user: clipForLog(connect.username), limit: result.limit }, 'connection refused: too many wrong log-ins')
      // (In the page's protocol version: MQTT 5's is a reason code, 0x87 not authorized.)
      page.end(connect.protocolVersion === 5
        ? generate({ cmd: 'connack', reasonCode: MQTT5_NOT_AUTHORIZED, sessionPresent: false }, { protocolVersion: 5 })
        : generate({ cmd: 'connack', returnCode: NOT_AUTHORIZED, sessionPresent: false }))
    }, (error: unknown) => {
      logger.error({ err: error, remote }, 'token gateway: log-in check failed')
      page.destroy()
    })
  }

  /**
   * Connects `page` to the broker: `first`, then both ways. `onConnack`: told the broker's CONNACK return code
   * (or -1 when the broker closes before one), before the CONNACK reaches the page.
   */
  private pipeToBroker (page: Duplex, first: Buffer, protocolVersion: IConnectPacket['protocolVersion'], onConnack: ((returnCode: number) => void) | undefined): void {
    const upstream = this.deps.upstream()
    let told = onConnack === undefined
    const tell = (returnCode: number): void => { if (!told) { told = true; onConnack?.(returnCode) } }
    const close = (): void => { tell(-1); page.destroy(); upstream.destroy() }
    upstream.on('error', (error) => { this.deps.logger.warn({ err: error }, 'cannot reach the broker for a page'); close() })
    // (A WebSocket stream emits no 'close' of its own when its peer closes: 'end' says it.)
    for (const side of [upstream, page]) {
      side.on('end', close)
      side.on('close', close)
    }
    upstream.write(first)
    page.pipe(upstream)
    if (told) {
      upstream.pipe(page)
      return
    }
    // Until the CONNACK: read here, then passed on as it came.
    const held: Buffer[] = []
    // (The CONNACK is in the page's protocol version: MQTT 5's carries properties.)
    const reader = packetParser({ protocolVersion: protocolVersion ?? 4 })
    const onData = (chunk: Buffer): void => {
      held.push(chunk)
      reader.parse(chunk)
    }
    reader.on('packet', (packet: Packet) => {
      if (told) return
      // (MQTT 5's CONNACK has a reason code where MQTT 3.1.1's has a return code.)
      tell(packet.cmd === 'connack' ? packet.returnCode ?? packet.reasonCode ?? -1 : -1)
      upstream.off('data', onData)
      upstream.pause()
      page.write(Buffer.concat(held))
      upstream.pipe(page)
    })
    reader.on('error', () => close())
    upstream.on('data', onData)
  }

  private async checkToken (connect: IConnectPacket, remote: string | undefined, throttled: boolean): Promise<{ returnCode: number, principal: string, expiresAt: number }> {
    const access = this.deps.access as AccessControl
    const password = Buffer.from(connect.password as Buffer)
    const login = async (): Promise<LoginResult> => await access.login(connect.username, password, connect.clientId)
    const { throttle, logger } = this.deps
    const result: ThrottledLoginResult = throttled && throttle !== undefined ? await throttle.attempt(throttleNameFor(connect.username, password), password, remote, login) : await login()
    const will = connect.will
    if (result.ok && result.principal !== undefined && result.expiresAt !== undefined) {
      if (will === undefined || will === null || access.mayPublish(result.principal, will.topic)) return { returnCode: 0, principal: result.principal, expiresAt: result.expiresAt }
      logger.warn({ remote, user: clipForLog(result.principal), topic: clipForLog(will.topic) }, 'connection refused: a Will the token may not publish')
      return { returnCode: NOT_AUTHORIZED, principal: '', expiresAt: 0 }
    }
    logger.warn({ remote, reason: result.refusal, token: result.tokenRefusal }, 'connection refused')
    return { returnCode: result.refusal === 'BAD_CREDENTIALS' ? BAD_USERNAME_OR_PASSWORD : NOT_AUTHORIZED, principal: '', expiresAt: 0 }
  }

  private admit (page: Duplex, connect: IConnectPacket, principal: string, expiresAt: number): TokenSession {
    const login = this.deps.login as { username: string, password: string }
    const session: TokenSession = new TokenSession({
      access: this.deps.access as AccessControl,
      principal,
      expiresAt,
      downstream: page,
      upstream: this.deps.upstream(),
      connect: { ...connect, clientId: gatewayClientId(principal, connect.clientId), username: login.username, password: Buffer.from(login.password) },
      logger: this.deps.logger,
      onEnd: () => this.sessions.delete(session)
    })
    this.sessions.add(session)
    session.start()
    this.deps.logger.debug({ user: clipForLog(principal), clientId: clipForLog(connect.clientId) }, 'token connection logged in')
    return session
  }

  private closeIssuers (users: string[]): void {
    const changed = new Set(users)
    for (const session of this.sessions) {
      if (!changed.has(parseTokenPrincipal(session.principal)?.issuer ?? '')) continue
      this.deps.logger.info({ user: clipForLog(session.principal) }, 'user changed in AUTH_FILE: connection closed')
      session.end()
    }
  }
}

/**
 * The client id a token connection has on the broker: its own id (random when empty) hashed with the token's
 * principal, so that the same holder gets the same id back (a persistent session), and no token can name a
 * relay's or a user's id.
 */
export function gatewayClientId (principal: string, clientId: string): string {
  const own = clientId === '' ? randomBytes(12).toString('base64url') : clientId
  return `pwt-${createHash('sha256').update(principal).update('\0').update(own).digest('base64url').slice(0, 22)}`
}
