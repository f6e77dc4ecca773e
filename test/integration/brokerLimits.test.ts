/**
 * The broker refuses oversized packets without buffering them whole, over TCP and WebSockets, and
 * survives random and malformed bytes; a good job published afterwards still prints.
 */
import { readFile } from 'node:fs/promises'
import net from 'node:net'
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { PacketSizeGuard } from '../../runtime/packetSizeGuard.ts'
import { DEFAULT_MAX_JOB_BYTES, maxPayloadBytes } from '../../protocol/index.ts'
import { Cleanup, relayEnv, startBroker, startPrinter, startRelay, tempDir, type StartedBroker } from '../../harness/parts.ts'
import { TestClient } from '../../harness/mqttClient.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** MQTT CONNECT for client id `id`, protocol 3.1.1, clean session. */
function connectPacket (id: string): Buffer {
  const body = Buffer.concat([
    Buffer.from([0, 4]), Buffer.from('MQTT'), Buffer.from([4, 2, 0, 30]),
    Buffer.from([0, id.length]), Buffer.from(id)
  ])
  return Buffer.concat([Buffer.from([0x10, body.length]), body])
}

/** The fixed header of a PUBLISH announcing `remaining` bytes. */
function publishHeader (remaining: number): Buffer {
  const bytes = [0x30]
  let value = remaining
  do {
    let byte = value % 128
    value = Math.floor(value / 128)
    if (value > 0) byte |= 0x80
    bytes.push(byte)
  } while (value > 0)
  return Buffer.from(bytes)
}

/** Sends bytes over raw TCP; resolves with how many bytes were written before the broker closed it. */
function sendUntilClosed (port: number, chunks: Buffer[], gapMs = 20): Promise<{ closed: boolean, sent: number }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let sent = 0
    let closed = false
    socket.on('error', () => {})
    socket.on('data', () => {})
    socket.on('close', () => { closed = true; resolve({ closed, sent }) })
    socket.once('connect', async () => {
      for (const chunk of chunks) {
        if (closed) return
        socket.write(chunk)
        sent += chunk.length
        await new Promise((r) => setTimeout(r, gapMs))
      }
      setTimeout(() => { if (!closed) { socket.destroy(); resolve({ closed: false, sent }) } }, 2000)
    })
  })
}

async function pipeline (env: Record<string, string> = {}): Promise<{ broker: StartedBroker, client: TestClient, printed: () => string[] }> {
  const broker = cleanup.add(await startBroker(env))
  const sim = cleanup.add(await startPrinter())
  const client = cleanup.add(await TestClient.connect(broker.mqttUrl))
  await client.subscribe('printers/lobby/responses', 'printers/lobby/errors', 'printers/lobby/status')
  cleanup.add(await startRelay(relayEnv(broker.mqttUrl, { lobby: sim }, await tempDir(cleanup), env)))
  await client.waitFor((m) => m.topic === 'printers/lobby/status' && m.json?.state === 'online')
  return { broker, client, printed: () => sim.tickets.map((t) => t.bytes.toString('latin1')) }
}

describe('packet size limit', () => {
  it('closes a TCP connection whose packet announces more than the limit, before its body arrives', async () => {
    const { broker, client, printed } = await pipeline({ MAX_JOB_BYTES: '1000' })
    const limit = broker.broker.maxPacketBytes
    expect(limit).toBe(maxPayloadBytes(1000))
    const body = Buffer.alloc(1024, 0x41)
    const chunks = [connectPacket('big'), publishHeader(100 * 1024 * 1024), ...Array.from({ length: 50 }, () => body)]
    const { closed, sent } = await sendUntilClosed(broker.broker.mqttPort, chunks)
    expect(closed).toBe(true)
    // Closed long before the 100 MiB body (or even 50 KiB of it) was sent.
    expect(sent).toBeLessThan(10 * 1024)
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'after-big', data: 'still up<p>' }))
    expect((await client.outcome('lobby', 'after-big')).json.status).toBe('printed')
    expect(printed()).toEqual(['still up<p>'])
  })

  it('disconnects an mqtt.js client that publishes over the limit over WebSockets, and prints a job at the limit', async () => {
    const { broker, client, printed } = await pipeline({ MAX_JOB_BYTES: '3000' })
    const ws = cleanup.add(await TestClient.connect(broker.wsUrl))
    const closed = new Promise<void>((resolve) => ws.client.once('close', () => resolve()))
    ws.client.publish('printers/lobby/jobs', Buffer.alloc(broker.broker.maxPacketBytes + 10, 0x41), { qos: 1 })
    await closed
    const atLimit = Buffer.concat([Buffer.from('<G2990>'), Buffer.alloc(2990, 0xff), Buffer.from('<p>')])
    expect(atLimit.length).toBe(3000)
    const sender = cleanup.add(await TestClient.connect(broker.wsUrl))
    await sender.publish('printers/lobby/jobs', JSON.stringify({ id: 'at-limit', data: atLimit.toString('base64'), encoding: 'base64' }))
    expect((await client.outcome('lobby', 'at-limit')).json.status).toBe('printed')
    expect(printed()).toEqual([atLimit.toString('latin1')])
  })

  it('prints a 1 MiB graphics job at the default limit, over TCP', async () => {
    const { client, printed } = await pipeline()
    const graphics = Buffer.alloc(1024 * 1024 - 20)
    for (let i = 0; i < graphics.length; i++) graphics[i] = (i * 7) & 0xff
    const data = Buffer.concat([Buffer.from(`<G${graphics.length}>`), graphics, Buffer.from('<p>')])
    expect(data.length).toBeLessThanOrEqual(1024 * 1024)
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'mib', data: data.toString('base64'), encoding: 'base64' }))
    const result = await client.outcome('lobby', 'mib', 20_000)
    expect(result.json).toMatchObject({ status: 'printed', bytes: data.length })
    expect(printed()[0] === data.toString('latin1')).toBe(true)
  })

  it('follows the framing across chunk boundaries and refuses a malformed length', () => {
    const outcomes: number[] = []
    const run = (chunks: Buffer[], max: number): boolean => {
      const inner = new PassThrough()
      const guard = new PacketSizeGuard({ inner, maxPacketBytes: max, onOversize: (n) => outcomes.push(n) })
      guard.on('error', () => {})
      guard.on('data', () => {})
      for (const chunk of chunks) inner.write(chunk)
      return guard.destroyed
    }
    const packet = Buffer.concat([publishHeader(300), Buffer.alloc(300, 1)])
    const stream = Buffer.concat([packet, packet, Buffer.from([0xc0, 0x00]), packet])
    for (let cut = 1; cut < stream.length; cut += 37) {
      expect(run([stream.subarray(0, cut), stream.subarray(cut)], 300)).toBe(false)
    }
    // The length split across chunks, one byte at a time, still counts.
    const big = publishHeader(301)
    expect(run([...big].map((b) => Buffer.from([b])), 300)).toBe(true)
    expect(outcomes.at(-1)).toBe(301)
    expect(run([Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])], 1e9)).toBe(true)
  })
})

describe('garbage', () => {
  it('survives random bytes on the TCP and WebSocket ports, and a good job prints afterwards', async () => {
    const { broker, client, printed } = await pipeline()
    let seed = 42
    const random = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed & 0xff }))
    for (let i = 0; i < 20; i++) {
      await sendUntilClosed(broker.broker.mqttPort, [random(1 + (i * 97) % 2000), random(64)], 1)
      // A valid CONNECT followed by garbage.
      await sendUntilClosed(broker.broker.mqttPort, [connectPacket(`g${i}`), random(1 + (i * 31) % 500)], 1)
    }
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(broker.wsUrl, 'mqtt')
        ws.on('error', () => resolve())
        ws.on('close', () => resolve())
        ws.on('open', () => {
          ws.send(random(1 + i * 50))
          ws.send(Buffer.concat([connectPacket(`w${i}`), random(200)]))
          setTimeout(() => ws.terminate(), 50)
        })
      })
    }
    await client.publish('printers/lobby/jobs', JSON.stringify({ id: 'after-garbage', data: 'fine<p>' }))
    expect((await client.outcome('lobby', 'after-garbage')).json.status).toBe('printed')
    expect(printed()).toEqual(['fine<p>'])
  })
})

describe('the packet limit of both brokers', () => {
  it('is the same number in mosquitto.conf as the embedded broker computes from MAX_JOB_BYTES (protocol/limits.ts)', async () => {
    const conf = await readFile(new URL('../../mosquitto.conf', import.meta.url), 'utf8')
    const setting = /^max_packet_size (\d+)$/m.exec(conf)
    expect(setting, 'mosquitto.conf sets max_packet_size').not.toBeNull()
    expect(Number(setting?.[1])).toBe(maxPayloadBytes(DEFAULT_MAX_JOB_BYTES))
  })
})
