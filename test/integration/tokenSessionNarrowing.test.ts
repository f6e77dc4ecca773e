/**
 * What a token's connection asks of Mosquitto through the gateway (web/server/tokenSession.ts): a wildcard
 * filter goes to the broker narrowed to the token's own topics, so Mosquitto never sends the gateway (an admin)
 * other printers' messages, ticket data included, only for them to be dropped. Read on the broker's side of a
 * real TokenSession over in-memory streams, with a real AccessControl and users file.
 */
import path from 'node:path'
import { generate, parser as packetParser, type Packet } from 'mqtt-packet'
import { afterEach, describe, expect, it } from 'vitest'
import { AccessControl } from '../../access/accessControl.ts'
import { tokenPrincipal } from '../../access/tokens.ts'
import { writeTestUsers } from '../../harness/accessTargets.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'
import { duplexPair } from '../../runtime/duplexPair.ts'
import { silentLogger } from '../../runtime/logger.ts'
import { decodeSecret } from '../../runtime/secretText.ts'
import { TokenSession } from '../../web/server/tokenSession.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

describe('a token connection through the gateway', () => {
  it('subscribes the broker to its own printers\' topics for a #, and puts the SUBACK back as one code', async () => {
    const dir = await tempDir(cleanup)
    await writeTestUsers(path.join(dir, 'auth.json'))
    const access = cleanup.add(new AccessControl({ file: path.join(dir, 'auth.json'), topicPrefix: 'printers', logger: silentLogger(), tokenSecret: decodeSecret('qgjBkYF3C3TnVhw0H5b1mOZ4xP2sN8aLdR6eW9cUyKo') }))
    await access.start()
    const [page, pageSide] = duplexPair()
    const [brokerSide, broker] = duplexPair()
    const toBroker: Packet[] = []
    const toPage: Packet[] = []
    const brokerParser = packetParser({ protocolVersion: 4 })
    brokerParser.on('packet', (packet: Packet) => toBroker.push(packet))
    broker.on('data', (chunk: Buffer) => brokerParser.parse(chunk))
    const pageParser = packetParser({ protocolVersion: 4 })
    pageParser.on('packet', (packet: Packet) => toPage.push(packet))
    page.on('data', (chunk: Buffer) => pageParser.parse(chunk))
    const session = new TokenSession({
      access,
      principal: tokenPrincipal({ issuer: 'alice', printers: ['lobby'] }),
      expiresAt: Date.now() + 60_000,
      downstream: pageSide,
      upstream: brokerSide,
      connect: { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'pwt-test', keepalive: 30, username: 'ops', password: Buffer.from('ops-pw') },
      logger: silentLogger(),
      onEnd: () => {}
    })
    cleanup.defer(() => session.end())
    session.start()
    session.fromPage({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: '#', qos: 1 }] })
    await expect.poll(() => toBroker.filter((p) => p.cmd === 'subscribe').length).toBe(1)
    const subscribe = toBroker.find((p) => p.cmd === 'subscribe') as Extract<Packet, { cmd: 'subscribe' }>
    expect(subscribe.subscriptions.map((s) => s.topic).sort()).toEqual(['printers/lobby/errors', 'printers/lobby/responses', 'printers/lobby/status', 'server/time'])
    broker.write(generate({ cmd: 'suback', messageId: 7, granted: subscribe.subscriptions.map(() => 1) }))
    await expect.poll(() => toPage.find((p) => p.cmd === 'suback')).toMatchObject({ messageId: 7, granted: [1] })
  })
})
