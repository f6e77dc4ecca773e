/** cli/discover.ts without sockets: ranges, how an answer to <S1> is judged, the ids and the PRINTERS line. */
import { describe, expect, it } from 'vitest'
import { judgeAnswer, parseRange, printerIdFor, printersLine } from '../../cli/discover.ts'

describe('parseRange', () => {
  it('lists the hosts of a range without its network and broadcast addresses, normalising the network', () => {
    expect(parseRange('127.0.0.5/29')).toEqual({ cidr: '127.0.0.0/29', hosts: ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'] })
    expect(parseRange('127.0.0.7/31').hosts).toEqual(['127.0.0.6', '127.0.0.7'])
    expect(parseRange('127.1.2.3/32').hosts).toEqual(['127.1.2.3'])
    const across = parseRange('127.0.255.9/23')
    expect([across.cidr, across.hosts[0], ...across.hosts.slice(-2)]).toEqual(['127.0.254.0/23', '127.0.254.1', '127.0.255.253', '127.0.255.254'])
    expect(parseRange('127.9.0.0/16').hosts).toHaveLength(65_534)
  })

  it('refuses what is not IPv4 CIDR, and more than a /16 unless allowed', () => {
    for (const text of ['', '127.0.0.1', '127.0.0.0/', '127.0.0.0/33', '127.0.0.300/24', '::1/128', 'a.b.c.d/24', '127.0.0.0/24/1']) {
      expect(() => parseRange(text), text).toThrow(/is not an IPv4 range in CIDR form/)
    }
    expect(() => parseRange('127.0.0.0/15')).toThrow(/131072 addresses: scan a \/16 or smaller.*--allow-large-range/)
    expect(parseRange('127.0.0.0/15', true).hosts).toHaveLength(131_070)
    // Beyond a /12 not even with the flag: 0.0.0.0/0 would first build a list of 4 billion addresses.
    for (const text of ['0.0.0.0/0', '127.0.0.0/8', '127.0.0.0/11']) {
      expect(() => parseRange(text, true), text).toThrow(/discover scans a \/12 at most/)
    }
  })
})

describe('judgeAnswer', () => {
  it('takes status bytes in either form for a Boca, anything else for another listener, nothing as silent', () => {
    expect(judgeAnswer('127.0.0.2', 9100, Buffer.from([0x11]))).toMatchObject({ kind: 'boca', encoding: 'binary', statuses: [{ condition: 'ready' }] })
    expect(judgeAnswer('127.0.0.2', 9100, Buffer.from([0x12, 0x11]))).toMatchObject({ kind: 'boca', encoding: 'binary' })
    expect(judgeAnswer('127.0.0.2', 9100, Buffer.from([0x41]))).toMatchObject({ kind: 'boca', encoding: 'ascii', statuses: [{ condition: 'ready' }] })
    expect(judgeAnswer('127.0.0.2', 9100, Buffer.from('HTTP/1.1 400'))).toMatchObject({ kind: 'other' })
    expect(judgeAnswer('127.0.0.2', 9100, Buffer.from([0x11, 0x00]))).toMatchObject({ kind: 'other' })
    expect(judgeAnswer('127.0.0.2', 9100, Buffer.alloc(0))).toEqual({ address: '127.0.0.2', port: 9100, kind: 'silent' })
  })
})

describe('printer ids and the PRINTERS line', () => {
  it('derives ids from addresses and lists only the Boca printers, with their ports', () => {
    expect(printerIdFor('127.0.0.2')).toBe('boca-127-0-0-2')
    const findings = [
      judgeAnswer('127.0.0.2', 9100, Buffer.from([0x11])),
      judgeAnswer('127.0.0.3', 9100, Buffer.from('garbage')),
      judgeAnswer('127.0.0.4', 9100, Buffer.from([0x41]))
    ]
    expect(printersLine(findings)).toBe('PRINTERS=boca-127-0-0-2=127.0.0.2:9100,boca-127-0-0-4=127.0.0.4:9100')
    expect(printersLine([findings[1] as never])).toBeUndefined()
  })
})
