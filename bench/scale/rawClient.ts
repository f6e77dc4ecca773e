/**
 * A minimal MQTT 3.1.1 client for scale benchmarks, over TCP (`mqtt://`) or WebSockets (`ws://`, protocol
 * `mqtt`), built on mqtt-packet: CONNECT (with a Will), SUBSCRIBE at QoS 1, PUBLISH at QoS 1, PUBACK for
 * what it receives, PINGREQ every keepalive, and reconnection with a jittered delay.
 *
 * Why not mqtt.js: one mqtt.js client holds stores, timers and streams worth tens of kilobytes, so 11,000 of
 * them in one process measure the load generator more than the broker. This one is a socket, a parser and a
 * few fields. It does only what an idle relay or page does; it is not a general client.
 */
import net from 'node:net'
import { generate, parser as packetParser, type Packet } from 'mqtt-packet'
import { WebSocket, type RawData } from 'ws'

export interface RawWill {
  topic: string
  payload: Buffer
  qos: 0 | 1
  retain: boolean
}

/** What a client reports; callbacks rather than an EventEmitter, to keep 11,000 clients small. */
export interface RawClientEvents {
  /** A CONNACK that accepted the connection; `at` is `Date.now()` when it arrived. */
  onConnack?: (client: RawClient, sessionPresent: boolean, at: number) => void
  /** Connected and subscribed: after the SUBACK, or at the CONNACK when the kept session has the subscriptions. */
  onReady?: (client: RawClient, sessionPresent: boolean, at: number) => void
  /** The connection ended (refused, timed out, closed by either side); a reconnection may follow. */
  onClose?: (client: RawClient, error: Error | undefined) => void
}

export interface RawClientOptions {
  /** `mqtt://host:port` or `ws://host:port/path`. */
  url: string
  clientId: string
  clean: boolean
  keepaliveS: number
  username?: string
  password?: string
  will?: RawWill
  /** Filters subscribed to at QoS 1 after a CONNACK without a session (a kept session has them already). */
  subscriptions: string[]
  /** Reconnect after every close that `end()` did not ask for. */
  autoReconnect: boolean
  /** The delay before each reconnection, drawn uniformly from [min, max] ms, so clients do not come back in step. */
  reconnectDelayMs?: readonly [number, number]
  /** No CONNACK by then: the attempt is dropped and retried, as mqtt.js does (the relay sets 10 s). */
  connectTimeoutMs?: number
  events?: RawClientEvents
}

interface Transport {
  write(bytes: Buffer): void
  /** After what was written has gone out (the DISCONNECT). */
  end(): void
  /** At once. */
  close(): void
}

interface TransportHandlers {
  onOpen(): void
  onData(bytes: Buffer): void
  onClose(error: Error | undefined): void
}

const DEFAULT_RECONNECT_DELAY_MS = [200, 2000] as const
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/** How long `end()` waits for the broker to close after a DISCONNECT before cutting the connection. */
const END_GRACE_MS = 2000

export class RawClient {
  readonly options: RawClientOptions
  /** Connection attempts, CONNACKs accepted, attempts that timed out or were refused (CONNACK code ≠ 0). */
  attempts = 0
  connacks = 0
  timeouts = 0
  refusals = 0
  /** SUBACKs that refused a filter (0x80). */
  refusedSubscriptions = 0
  /** PUBLISH packets received (QoS 0 and 1). */
  received = 0
  connected = false
  private transport: Transport | undefined
  private connectTimer: NodeJS.Timeout | undefined
  private pingTimer: NodeJS.Timeout | undefined
  private reconnectTimer: NodeJS.Timeout | undefined
  private ended = false
  private nextId = 0
  private subscribeId = -1
  private readonly pendingPublishes = new Map<number, { resolve: () => void, reject: (error: Error) => void }>()
  private closed: (() => void) | undefined

  constructor (options: RawClientOptions) {
    this.options = options
  }

  /** Opens the connection (and keeps it open, with `autoReconnect`). */
  start (): void {
    this.ended = false
    this.open()
  }

  /** A QoS 1 PUBLISH; resolves at its PUBACK, rejects if the connection ends first. */
  publish (topic: string, payload: Buffer, retain: boolean): Promise<void> {
    const transport = this.transport
    if (transport === undefined || !this.connected) return Promise.reject(new Error('not connected'))
    const messageId = this.messageId()
    return new Promise((resolve, reject) => {
      this.pendingPublishes.set(messageId, { resolve, reject })
      transport.write(generate({ cmd: 'publish', topic, payload, qos: 1, retain, dup: false, messageId }))
    })
  }

  /** Closes for good: a DISCONNECT when connected (so the broker drops the Will), then the socket. */
  end (): Promise<void> {
    this.ended = true
    clearTimeout(this.reconnectTimer)
    const transport = this.transport
    if (transport === undefined) return Promise.resolve()
    return new Promise((resolve) => {
      if (!this.connected) {
        this.closed = resolve
        transport.close()
        return
      }
      const grace = setTimeout(() => transport.close(), END_GRACE_MS)
      this.closed = () => { clearTimeout(grace); resolve() }
      transport.write(generate({ cmd: 'disconnect' }))
      transport.end()
    })
  }

  private open (): void {
    this.attempts++
    const parser = packetParser({ protocolVersion: 4 })
    parser.on('packet', (packet: Packet) => this.take(packet))
    // A malformed packet from the broker: nothing sensible to do but drop the connection.
    parser.on('error', () => this.transport?.close())
    const url = new URL(this.options.url)
    const handlers: TransportHandlers = {
      onOpen: () => this.transport?.write(this.connectPacket()),
      onData: (bytes) => parser.parse(bytes),
      onClose: (error) => this.onTransportClose(error)
    }
    this.transport = url.protocol === 'ws:' ? openWebSocket(url, handlers) : openTcp(url, handlers)
    this.connectTimer = setTimeout(() => {
      this.timeouts++
      this.transport?.close()
    }, this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)
  }

  private connectPacket (): Buffer {
    const { clientId, clean, keepaliveS, username, password, will } = this.options
    return generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId,
      clean,
      keepalive: keepaliveS,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password: Buffer.from(password) }),
      ...(will === undefined ? {} : { will })
    })
  }

  private take (packet: Packet): void {
    switch (packet.cmd) {
      case 'connack': return this.onConnack(packet.returnCode ?? 0, packet.sessionPresent)
      case 'suback': {
        if (packet.messageId !== this.subscribeId) return
        this.refusedSubscriptions += (packet.granted as number[]).filter((code) => code === 0x80).length
        this.options.events?.onReady?.(this, false, Date.now())
        return
      }
      case 'publish': {
        this.received++
        // [MQTT-4.3.2-2]: a QoS 1 message is acknowledged, or the broker keeps sending it again.
        if (packet.qos === 1 && packet.messageId !== undefined) this.transport?.write(generate({ cmd: 'puback', messageId: packet.messageId }))
        return
      }
      case 'puback': {
        const id = packet.messageId ?? -1
        const pending = this.pendingPublishes.get(id)
        this.pendingPublishes.delete(id)
        pending?.resolve()
        return
      }
      default: // PINGRESP and anything else an idle client does not act on
    }
  }

  private onConnack (returnCode: number, sessionPresent: boolean): void {
    clearTimeout(this.connectTimer)
    if (returnCode !== 0) {
      this.refusals++
      this.transport?.close()
      return
    }
    const at = Date.now()
    this.connected = true
    this.connacks++
    // [MQTT-3.1.2-24]: a control packet within each keepalive, or the broker drops the connection.
    this.pingTimer = setInterval(() => this.transport?.write(generate({ cmd: 'pingreq' })), this.options.keepaliveS * 1000)
    this.options.events?.onConnack?.(this, sessionPresent, at)
    const needsSubscribe = this.options.subscriptions.length > 0 && (this.options.clean || !sessionPresent)
    if (!needsSubscribe) {
      this.options.events?.onReady?.(this, sessionPresent, at)
      return
    }
    this.subscribeId = this.messageId()
    this.transport?.write(generate({
      cmd: 'subscribe',
      messageId: this.subscribeId,
      subscriptions: this.options.subscriptions.map((topic) => ({ topic, qos: 1 }))
    }))
  }

  private onTransportClose (error: Error | undefined): void {
    clearTimeout(this.connectTimer)
    clearInterval(this.pingTimer)
    this.transport = undefined
    this.connected = false
    this.subscribeId = -1
    const lost = new Error('connection closed')
    for (const pending of this.pendingPublishes.values()) pending.reject(lost)
    this.pendingPublishes.clear()
    this.options.events?.onClose?.(this, error)
    if (this.ended) {
      this.closed?.()
      this.closed = undefined
      return
    }
    if (!this.options.autoReconnect) return
    const [min, max] = this.options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS
    this.reconnectTimer = setTimeout(() => this.open(), min + Math.random() * (max - min))
  }

  private messageId (): number {
    this.nextId = (this.nextId % 0xffff) + 1
    return this.nextId
  }
}

function openTcp (url: URL, handlers: TransportHandlers): Transport {
  const socket = net.connect({ host: url.hostname, port: Number(url.port || 1883) })
  // Small packets answered at once (PUBACK, PINGRESP): Nagle would only add delay.
  socket.setNoDelay(true)
  let failure: Error | undefined
  socket.on('connect', () => handlers.onOpen())
  socket.on('data', (bytes: Buffer) => handlers.onData(bytes))
  socket.on('error', (error) => { failure = error })
  socket.on('close', () => handlers.onClose(failure))
  return {
    write: (bytes) => { if (!socket.destroyed) socket.write(bytes) },
    end: () => { socket.end() },
    close: () => { socket.destroy() }
  }
}

function openWebSocket (url: URL, handlers: TransportHandlers): Transport {
  // No compression: the page's mqtt.js does not ask for it, and it would cost the broker memory per socket.
  const ws = new WebSocket(url, 'mqtt', { perMessageDeflate: false })
  let failure: Error | undefined
  ws.on('open', () => handlers.onOpen())
  ws.on('message', (data: RawData) => handlers.onData(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)))
  ws.on('error', (error) => { failure = error })
  ws.on('close', () => handlers.onClose(failure))
  return {
    write: (bytes) => { if (ws.readyState === WebSocket.OPEN) ws.send(bytes) },
    end: () => { ws.close() },
    // terminate, not close: a closing handshake with a broker that is gone would wait for its timeout.
    close: () => { ws.terminate() }
  }
}
