/**
 * `printwire/client`: the one way a program prints over MQTT (SPEC "Client library"), in browsers and Node.
 * One mqtt.js connection (clean session, random client id, reconnecting by itself); jobs correlated by
 * their envelope id (pendingJobs.ts); printers from retained status (printerDirectory.ts).
 *
 * - Subscribes before it publishes: a print waits for its printer's `responses` and `errors` subscriptions
 *   (SUBACK), made once per printer and kept, shared by every print to it.
 * - Results missed while disconnected: after each reconnect every job still waited for (and already taken by
 *   the broker) is published again with the same id. The relay prints an id once and answers a duplicate of a
 *   finished job with its stored result, and ignores a duplicate of one it still holds (SPEC "Delivery"), so
 *   the result comes again on this connection. Works on both brokers without a persistent session.
 * - NO_RELAY: Printwire's broker answers it itself. Mosquitto cannot (`broker: 'mosquitto'`): the client then
 *   reads the printer's retained status before publishing, and refuses without publishing when no relay
 *   serves it (no status, or `offline`).
 */
import mqtt, { type IClientOptions, type IStream, type MqttClient } from 'mqtt'
import { PrintwireError } from '../protocol/errorCodes.ts'
import type { JobErrorMessage, JobResult } from '../protocol/payloads.ts'
import { JOB_ID_PATTERN } from '../protocol/limits.ts'
import type { BrokerKind } from '../protocol/pageConfig.ts'
import { anyPrinterTopic, cancelTopic, DEFAULT_TOPIC_PREFIX, errorsTopic, jobsTopic, parsePrinterTopic, responsesTopic, statusTopic, TOPIC_PREFIX_PATTERN } from '../protocol/topics.ts'
import { buildEnvelope, checkPrinterId, newJobId, type JobData } from './jobEnvelope.ts'
import { PendingJobs, type PendingJob } from './pendingJobs.ts'
import { PrinterDirectory, SERVED_STATES, type PrinterInfo } from './printerDirectory.ts'

export interface ConnectOptions {
  username?: string
  password?: string
  /** A browser token (SPEC "Browser tokens"): sent as the password, with `username` or `token` as user name. */
  token?: string
  /** The first topic level(s) of every printer topic; `printers` by default (a page passes its server's). */
  topicPrefix?: string
  /** `mosquitto`: the broker cannot answer NO_RELAY, so the client checks the printer's status first. */
  broker?: BrokerKind
  /** The MQTT client id; `printwire-client-<random>` by default. */
  clientId?: string
  /** Pause between reconnection attempts; 1000 ms by default. */
  reconnectPeriodMs?: number
  /** How long one connection attempt may take; 10 000 ms by default. */
  connectTimeoutMs?: number
  /** MQTT keepalive; 30 s by default. */
  keepaliveSeconds?: number
  /**
   * For a program that runs the broker in its own process: makes a new transport (a duplex stream to the broker)
   * for each connection attempt, instead of connecting to `url` (then only named in messages).
   */
  transport?: () => IStream
}

export interface PrintOptions {
  /** The job id (1-128 of `A-Z a-z 0-9 . _ : -`); a fresh unique one by default. The same id never prints twice. */
  id?: string
  /** 1 to 100. */
  copies?: number
  /** ISO-8601 date-time with a time zone: the job is not printed after it. */
  expiresAt?: string
  /** Reject with TIMEOUT after this long (the job may still print). Without it, wait for the result. */
  timeoutMs?: number
  /** Reject with ABORTED when it aborts (the job may still print). */
  signal?: AbortSignal
  /** Retryable errors of the job (`PRINTER_UNREACHABLE`, ...): the relay keeps it and tries again. */
  onUpdate?: (error: JobErrorMessage) => void
  /** The broker has taken the job (PUBACK). */
  onPublished?: (jobId: string) => void
}

/** What `on('connection', …)` reports. */
export interface ConnectionState {
  connected: boolean
  /** Why it is not connected, when known (the transport's error). */
  reason?: string
  /** The broker refused the log-in: the client has stopped (LOGIN_REFUSED). */
  loginRefused?: boolean
}

export interface ClientEvents {
  printers: (list: PrinterInfo[]) => void
  connection: (state: ConnectionState) => void
}

interface Waiter {
  resolve: (result: JobResult) => void
  reject: (error: PrintwireError) => void
  onUpdate: ((error: JobErrorMessage) => void) | undefined
  onPublished: ((jobId: string) => void) | undefined
  /** mqtt.js's id of the packet in its outgoing store, when known (to drop a publish the broker refuses). */
  messageId?: number
  cancelled: boolean
  /** Published again after a reconnect: the broker had taken it once already. */
  resent?: boolean
  cleanup: () => void
}

/** How long before a job published again is sent once more, when the broker answered that copy NO_RELAY. */
const RESEND_AFTER_NO_RELAY_MS = 1000

/** CONNACK return codes of MQTT 3.1.1 that mean "log in (again)": bad user name or password, not authorized. */
const LOGIN_REFUSED_CODES = new Set([4, 5])

export interface PrintwireClientDeps {
  url: string
  options: ConnectOptions
}

export class PrintwireClient {
  private readonly url: string
  private readonly options: ConnectOptions
  readonly topicPrefix: string
  private client: MqttClient | undefined
  private readonly jobs = new PendingJobs<Waiter>()
  private readonly directory = new PrinterDirectory()
  /** Topic → its subscription (SUBACK), made once and kept; mqtt.js subscribes again after a reconnect. */
  private readonly subscriptions = new Map<string, Promise<void>>()
  private readonly listeners = { printers: new Set<ClientEvents['printers']>(), connection: new Set<ClientEvents['connection']>() }
  private readonly decoder = new TextDecoder()
  private closed = false
  private wasConnected = false
  /** Requests waiting for the connection to come back (untilAnswered). */
  private connectWaiters: Array<{ resolve: () => void, reject: (error: PrintwireError) => void }> = []

  constructor (deps: PrintwireClientDeps) {
    this.url = deps.url
    this.options = deps.options
    this.topicPrefix = deps.options.topicPrefix ?? DEFAULT_TOPIC_PREFIX
  }

  /** The mqtt.js client underneath, for topics outside printing (e.g. `server/time`). */
  get mqtt (): MqttClient {
    if (this.client === undefined) throw new PrintwireError('BROKER_UNREACHABLE', 'not connected yet')
    return this.client
  }

  get connected (): boolean {
    return this.client?.connected ?? false
  }

  /**
   * Connects; resolves once the broker accepted the log-in and the printers' statuses are subscribed. Their
   * retained statuses come with the subscription: Mosquitto sends them before it answers a later packet (so they
   * are in when this resolves); Aedes sends them a moment after, and `on('printers')` tells when they are.
   */
  async start (): Promise<void> {
    if (!TOPIC_PREFIX_PATTERN.test(this.topicPrefix)) throw new PrintwireError('INVALID_ARGUMENT', `topic prefix "${this.topicPrefix}" must be MQTT topic levels without wildcards`)
    let client: MqttClient
    try {
      const transport = this.options.transport
      client = transport === undefined ? mqtt.connect(this.url, this.mqttOptions()) : new mqtt.MqttClient(() => transport(), this.mqttOptions())
    } catch (error) {
      // Not a broker URL (no protocol, an unknown one): mqtt.js throws at once.
      throw new PrintwireError('INVALID_ARGUMENT', `cannot connect to the broker at ${this.url}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    }
    this.client = client
    await this.firstConnect(client)
    client.on('message', (topic, payload) => this.receive(topic, payload))
    client.on('connect', () => this.reconnected())
    client.on('close', () => this.disconnected())
    // mqtt.js emits `connect` only once it has sent its stored publishes again: a CONNACK says the connection was up.
    client.on('packetreceive', (packet) => { if (packet.cmd === 'connack' && packet.returnCode === 0) this.wasConnected = true })
    client.on('error', (error) => this.transportError(error))
    this.wasConnected = true
    setNoDelay(client)
    const statuses = anyPrinterTopic(this.topicPrefix, 'status')
    await this.subscribe(statuses).then(() => this.roundTrip(statuses), () => {
      // Refused (an access rule): printers() stays empty; printing does not need it.
    })
  }

  private mqttOptions (): IClientOptions {
    const { username, password, token } = this.options
    const options: IClientOptions = {
      protocolVersion: 4,
      clean: true,
      clientId: this.options.clientId ?? `printwire-client-${randomSuffix()}`,
      reconnectPeriod: this.options.reconnectPeriodMs ?? 1000,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
      keepalive: this.options.keepaliveSeconds ?? 30
    }
    if (token !== undefined) {
      options.username = username ?? 'token'
      options.password = token
    } else if (username !== undefined) {
      options.username = username
      options.password = password ?? ''
    }
    return options
  }

  /** The first CONNACK; a refusal, an error or a closed connection before it ends the client. */
  private firstConnect (client: MqttClient): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: PrintwireError): void => {
        client.off('connect', onConnect)
        client.off('error', onError)
        client.off('close', onClose)
        if (error === undefined) { resolve(); return }
        client.on('error', () => {})
        client.end(true)
        reject(error)
      }
      const onConnect = (): void => done()
      const onError = (error: Error & { code?: unknown }): void => done(this.connectError(error))
      const onClose = (): void => done(new PrintwireError('BROKER_UNREACHABLE', `cannot connect to the broker at ${this.url}: the connection closed`))
      client.on('connect', onConnect)
      client.on('error', onError)
      client.on('close', onClose)
    })
  }

  private connectError (error: Error & { code?: unknown }): PrintwireError {
    if (typeof error.code === 'number' && LOGIN_REFUSED_CODES.has(error.code)) {
      const who = this.options.token !== undefined ? 'with a token' : this.options.username === undefined ? 'of an anonymous client' : `of user "${this.options.username}"`
      return new PrintwireError('LOGIN_REFUSED', `the broker at ${this.url} refused the log-in ${who} (${error.message})`, { cause: error })
    }
    return new PrintwireError('BROKER_UNREACHABLE', `cannot connect to the broker at ${this.url}: ${error.message}`, { cause: error })
  }

  /** Prints `data` on `printerId`; resolves with its result, rejects with its final error (see SPEC). */
  async print (printerId: string, data: JobData, options: PrintOptions = {}): Promise<JobResult> {
    const jobId = options.id ?? newJobId()
    checkPrinterId(printerId)
    const envelope = buildEnvelope(data, { id: jobId, copies: options.copies, expiresAt: options.expiresAt })
    const { timeoutMs, signal } = options
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs <= 0)) throw new PrintwireError('INVALID_ARGUMENT', 'timeoutMs must be a positive number of milliseconds', { jobId, printerId })
    if (this.closed) throw new PrintwireError('ABORTED', 'the client is closed', { jobId, printerId })
    if (signal?.aborted === true) throw aborted(jobId, printerId)

    let waiter!: Waiter
    const outcome = new Promise<JobResult>((resolve, reject) => {
      waiter = { resolve, reject, onUpdate: options.onUpdate, onPublished: options.onPublished, cancelled: false, cleanup: () => {} }
    })
    const job = this.jobs.add({ printerId, jobId, envelope, extra: waiter })
    let timer: ReturnType<typeof setTimeout> | undefined
    const onAbort = (): void => this.settle(job, aborted(jobId, printerId))
    waiter.cleanup = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => this.settle(job, new PrintwireError('TIMEOUT', `no result for job ${jobId} within ${timeoutMs} ms (is a relay serving printer "${printerId}"?)`, { jobId, printerId })), timeoutMs)
    }
    void this.send(job).catch((error: unknown) => this.settle(job, asPrintwireError(error, jobId, printerId)))
    return await outcome
  }

  /** Subscribes to the printer's results, checks its relay where the broker cannot, then publishes. */
  private async send (job: PendingJob<Waiter>): Promise<void> {
    const { printerId, jobId } = job
    await Promise.all([responsesTopic, errorsTopic].map((topic) => this.subscribe(topic(this.topicPrefix, printerId)))).catch((error: unknown) => {
      if (!isSubscribeRefusal(error)) throw error
      const who = this.options.token !== undefined ? 'this token' : this.options.username === undefined ? 'an anonymous client' : `user "${this.options.username}"`
      throw new PrintwireError('NOT_ALLOWED', `the broker refused to send ${who} the results of printer "${printerId}": this user may not print on it; nothing was published`, { jobId, printerId })
    })
    if (this.options.broker === 'mosquitto') await this.checkRelay(printerId, jobId)
    if (!this.isWaiting(job)) return
    this.publish(job)
  }

  /** Mosquitto: the printer's retained status, read before publishing; NO_RELAY when no relay serves it. */
  private async checkRelay (printerId: string, jobId: string): Promise<void> {
    if (this.directory.get(printerId) === undefined) {
      // Its own subscription (the wildcard one may have been refused), then a round trip: Mosquitto sends a
      // subscription's retained message before it answers a later packet (here an UNSUBSCRIBE).
      await this.subscribe(statusTopic(this.topicPrefix, printerId))
      await this.roundTrip(statusTopic(this.topicPrefix, printerId))
    }
    const status = this.directory.get(printerId)
    if (status !== undefined && SERVED_STATES.includes(status.state)) return
    const seen = status === undefined
      ? 'no relay has announced it on this broker'
      : `its status is ${status.state}${status.detail === undefined ? '' : ` (${status.detail})`} from relay ${status.relayId} at ${status.at}`
    throw new PrintwireError('NO_RELAY', `no relay serves printer "${printerId}": ${seen}; nothing was published`, { jobId, printerId })
  }

  /** QoS 1. mqtt.js sends it again after a reconnect until the broker acknowledges it. */
  private publish (job: PendingJob<Waiter>): void {
    const client = this.mqtt
    job.phase = 'publishing'
    const before = new Set(Object.keys(client.outgoing))
    client.publish(jobsTopic(this.topicPrefix, job.printerId), job.envelope, { qos: 1 }, (error) => {
      if (!this.isWaiting(job) || (error !== undefined && error !== null)) return
      job.phase = 'published'
      job.closesWhilePublishing = 0
      job.extra.onPublished?.(job.jobId)
    })
    const added = Object.keys(client.outgoing).filter((id) => !before.has(id))
    if (added.length === 1) job.extra.messageId = Number(added[0])
  }

  /** Cancels a job that has not started printing (SPEC "No relay, cancel"); resolves once the broker has the request. */
  async cancel (printerId: string, jobId: string): Promise<void> {
    checkPrinterId(printerId)
    if (typeof jobId !== 'string' || !JOB_ID_PATTERN.test(jobId)) throw new PrintwireError('INVALID_ARGUMENT', `job id ${JSON.stringify(jobId)} must be 1-128 characters of A-Z a-z 0-9 . _ : -`)
    if (this.closed) throw new PrintwireError('ABORTED', 'the client is closed', { jobId, printerId })
    // Not published again after a reconnect: that could bring back a job the relay has dropped.
    const job = this.jobs.get(printerId, jobId)
    if (job !== undefined) job.extra.cancelled = true
    await this.mqtt.publishAsync(cancelTopic(this.topicPrefix, printerId), JSON.stringify({ jobId }), { qos: 1 })
  }

  /** The printers the user can see, with their latest status. */
  printers (): PrinterInfo[] {
    return this.directory.list()
  }

  /** Listens to `printers` (the list, on each change) or `connection` (connected or not); returns what stops it. */
  on<E extends keyof ClientEvents> (event: E, listener: ClientEvents[E]): () => void {
    const set = this.listeners[event] as Set<ClientEvents[E]>
    set.add(listener)
    return () => { set.delete(listener) }
  }

  /** Ends the connection; prints still waiting reject with ABORTED (they may still print). */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.rejectConnectWaiters()
    for (const job of this.jobs.all()) this.settle(job, new PrintwireError('ABORTED', `the client was closed before job ${job.jobId} ended (it may still print)`, { jobId: job.jobId, printerId: job.printerId }))
    await this.client?.endAsync(true)
  }

  private rejectConnectWaiters (): void {
    for (const waiter of this.connectWaiters.splice(0)) waiter.reject(new PrintwireError('ABORTED', 'the client is closed'))
  }

  private isWaiting (job: PendingJob<Waiter>): boolean {
    return this.jobs.get(job.printerId, job.jobId) === job
  }

  private settle (job: PendingJob<Waiter>, outcome: JobResult | PrintwireError): void {
    if (!this.isWaiting(job)) return
    this.jobs.delete(job.printerId, job.jobId)
    job.extra.cleanup()
    if (outcome instanceof PrintwireError) job.extra.reject(outcome)
    else job.extra.resolve(outcome)
  }

  /** Subscribes once per topic (QoS 1) and keeps it; a refusal lets a later call ask again. */
  private subscribe (topic: string): Promise<void> {
    let subscribed = this.subscriptions.get(topic)
    if (subscribed === undefined) {
      subscribed = this.untilAnswered(() => this.mqtt.subscribeAsync(topic, { qos: 1 })).then(() => {})
      subscribed.catch(() => { this.subscriptions.delete(topic) })
      this.subscriptions.set(topic, subscribed)
    }
    return subscribed
  }

  /**
   * An UNSUBSCRIBE of a topic nobody subscribes to (`<topic>/sync`), answered after the retained messages of
   * `topic`'s subscription were sent: the broker answers a client's packets in order.
   */
  private async roundTrip (topic: string): Promise<void> {
    await this.untilAnswered(() => this.mqtt.unsubscribeAsync(`${topic}/sync`))
  }

  /** Runs a request (a SUBSCRIBE, an UNSUBSCRIBE); when the connection closes before its answer, runs it again once back. */
  private async untilAnswered<T> (request: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await request()
      } catch (error) {
        if (this.closed || !(error instanceof Error) || !/^(Connection closed|client disconnecting)$/.test(error.message)) throw error
        await this.nextConnect()
      }
    }
  }

  /** Resolves once connected (at once if it is); rejects when the client is closed. */
  private nextConnect (): Promise<void> {
    if (this.closed) return Promise.reject(new PrintwireError('ABORTED', 'the client is closed'))
    if (this.connected) return Promise.resolve()
    return new Promise((resolve, reject) => this.connectWaiters.push({ resolve, reject }))
  }

  private receive (topic: string, payload: Uint8Array): void {
    const parsed = parsePrinterTopic(this.topicPrefix, topic)
    if (parsed === null) return
    const text = this.decoder.decode(payload)
    if (parsed.kind === 'status') {
      if (this.directory.update(parsed.printerId, text)) this.emit('printers', this.directory.list())
      return
    }
    if (parsed.kind !== 'responses' && parsed.kind !== 'errors') return
    const routed = this.jobs.route(parsed.printerId, text)
    if (routed === null) return
    const { job, decision } = routed
    if (decision.kind === 'failed' && decision.error.code === 'NO_RELAY' && job.extra.resent === true) {
      // The broker took this job before the reconnect, so a relay session had it: a NO_RELAY for the copy sent to
      // fetch a missed result (the relay's session not back yet) says nothing of the job. Ask again shortly.
      setTimeout(() => { if (this.isWaiting(job) && this.connected && job.phase === 'published') this.publish(job) }, RESEND_AFTER_NO_RELAY_MS).unref?.()
      return
    }
    if (decision.kind === 'result') this.settle(job, decision.result)
    else if (decision.kind === 'failed') this.settle(job, decision.error)
    else callSafely(() => job.extra.onUpdate?.(decision.error))
  }

  /** After a reconnect: the jobs the broker had taken are published again, so a result missed meanwhile comes again. */
  private reconnected (): void {
    setNoDelay(this.client)
    for (const waiter of this.connectWaiters.splice(0)) waiter.resolve()
    this.emit('connection', { connected: true })
    void this.publishAgainOnceSubscribed()
  }

  /**
   * Only once the subscriptions are in place again (their SUBACK): the broker handles the packets of one read
   * together, so a job sent right behind mqtt.js's own re-SUBSCRIBE could be answered (a duplicate is answered at
   * once) before the subscription is stored, and its result would be lost again.
   */
  private async publishAgainOnceSubscribed (): Promise<void> {
    const topics = [...this.subscriptions.keys()]
    if (topics.length > 0) {
      const map = Object.fromEntries(topics.map((topic) => [topic, { qos: 1 as const }]))
      try {
        // `resubscribe`: sent even though mqtt.js counts these topics as subscribed already.
        await this.mqtt.subscribeAsync({ ...map, resubscribe: true } as unknown as typeof map)
      } catch {
        return // the connection went again: the next reconnect publishes them
      }
    }
    for (const job of this.jobs.all()) {
      if (job.phase === 'published' && !job.extra.cancelled) {
        job.extra.resent = true
        this.publish(job)
      }
    }
  }

  /**
   * A connection that was up closed. A broker that refuses a job (too large, not this user's printer) closes
   * the connection on it, and again when mqtt.js sends it after reconnecting: two closes on one publish end it.
   */
  private disconnected (): void {
    const wasConnected = this.wasConnected
    this.wasConnected = false
    if (!wasConnected || this.closed) return
    this.emit('connection', { connected: false })
    for (const job of this.jobs.all()) {
      if (job.phase !== 'publishing') continue
      job.closesWhilePublishing += 1
      if (job.closesWhilePublishing < 2) continue
      if (job.extra.messageId !== undefined) this.client?.removeOutgoingMessage(job.extra.messageId)
      const who = this.options.token !== undefined ? 'this token' : this.options.username === undefined ? 'anonymous clients' : `user "${this.options.username}"`
      this.settle(job, new PrintwireError('PUBLISH_REFUSED', `the broker closed the connection when the job was published: the job is larger than the broker accepts (MAX_JOB_BYTES), or ${who} may not print on printer "${job.printerId}"`, { jobId: job.jobId, printerId: job.printerId }))
    }
  }

  /** Errors are followed by `close`; a refused log-in (e.g. an expired token) stops the client for good. */
  private transportError (error: Error & { code?: unknown }): void {
    if (typeof error.code !== 'number' || !LOGIN_REFUSED_CODES.has(error.code) || this.closed) {
      this.emit('connection', { connected: false, reason: error.message })
      return
    }
    const refused = this.connectError(error)
    this.closed = true
    this.rejectConnectWaiters()
    this.client?.end(true)
    for (const job of this.jobs.all()) this.settle(job, new PrintwireError('LOGIN_REFUSED', refused.message, { jobId: job.jobId, printerId: job.printerId }))
    this.emit('connection', { connected: false, reason: refused.message, loginRefused: true })
  }

  private emit<E extends keyof ClientEvents> (event: E, value: Parameters<ClientEvents[E]>[0]): void {
    for (const listener of [...this.listeners[event]]) callSafely(() => (listener as (v: typeof value) => void)(value))
  }
}

/** Connects to a Printwire broker (`mqtt://`, `mqtts://`, `ws://`, `wss://`); see SPEC "Client library". */
export async function connect (url: string, options: ConnectOptions = {}): Promise<PrintwireClient> {
  const client = new PrintwireClient({ url, options })
  await client.start()
  return client
}

function aborted (jobId: string, printerId: string): PrintwireError {
  return new PrintwireError('ABORTED', `stopped waiting for job ${jobId} (it may still print)`, { jobId, printerId })
}

function asPrintwireError (error: unknown, jobId: string, printerId: string): PrintwireError {
  if (error instanceof PrintwireError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new PrintwireError('BROKER_UNREACHABLE', `job ${jobId} could not be sent: ${message}`, { cause: error, jobId, printerId })
}

function isSubscribeRefusal (error: unknown): boolean {
  return error instanceof Error && /Subscribe error/.test(error.message)
}

/** A listener's exception must not break the client's bookkeeping. */
function callSafely (fn: () => void): void {
  try { fn() } catch (error) { console.error('printwire/client: a listener threw:', error) }
}

/** Nagle's algorithm off on a TCP socket (Node); WebSockets already have it off. */
function setNoDelay (client: MqttClient | undefined): void {
  const stream = client?.stream as { setNoDelay?: (noDelay: boolean) => void } | undefined
  stream?.setNoDelay?.(true)
}

/** 12 random base-36 characters (getRandomValues works outside secure contexts too). */
function randomSuffix (length = 12): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(length))
  return Array.from(bytes, (b) => (b % 36).toString(36)).join('')
}
