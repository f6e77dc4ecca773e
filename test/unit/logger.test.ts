/**
 * runtime/logger.ts: LOG_FORMAT=json gives JSON lines, pretty one readable line with the local time; unset, a
 * terminal gets pretty and anything else JSON (npm start asks for pretty). Written synchronously, so what is
 * logged is out before the call returns (a part may process.exit right after "stopped").
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger, defaultLogFormat, LOG_FORMATS, type LogOutput } from '../../runtime/logger.ts'
import { configFields } from '../../runtime/configFields.ts'

function sink (isTTY: boolean): LogOutput & { text: string } {
  const out = { text: '', isTTY, write (chunk: string) { out.text += chunk } }
  return out
}

const savedTz = process.env.TZ
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ
  else process.env.TZ = savedTz
})

/** HH:MM:ss of `ms` in this process's time zone. */
function localClock (ms: number): string {
  const d = new Date(ms)
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
}

describe('log format', () => {
  it('json: one JSON object a line, with the fields and the epoch time', () => {
    const out = sink(true)
    createLogger({ name: 'relay', format: 'json', output: out }).info({ printerId: 'lobby', bytes: 42 }, 'job printed')
    const lines = out.text.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 30, name: 'relay', printerId: 'lobby', bytes: 42, msg: 'job printed', time: expect.any(Number) })
  })

  it('pretty: one line with the local time, the level, the part, the message and the fields; secrets still redacted', () => {
    process.env.TZ = 'Asia/Kolkata' // UTC+05:30: a time printed in UTC would not match
    const out = sink(false)
    const before = Date.now()
    const logger = createLogger({ name: 'relay', format: 'pretty', output: out })
    logger.info({ printerId: 'lobby', bytes: 42 }, 'job printed')
    logger.warn({ password: 'hunter2' }, 'log-in refused')
    const after = Date.now()
    const lines = out.text.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    const match = /^\[(\d\d:\d\d:\d\d)\.\d{3}\] INFO \(relay\): job printed \{"printerId":"lobby","bytes":42\}$/.exec(lines[0] as string)
    expect(match, lines[0]).not.toBeNull()
    expect([localClock(before), localClock(after)]).toContain(match?.[1])
    expect(localClock(before)).not.toBe(new Date(before).toISOString().slice(11, 19))
    expect(lines[1]).toMatch(/ WARN \(relay\): log-in refused \{"password":"\[redacted\]"\}$/)
    expect(out.text).not.toContain('hunter2')
    expect(out.text).not.toContain('\u001b[') // no colours off a terminal
  })

  it('unset: pretty on a terminal, JSON lines otherwise; a default form (npm start) wins over that guess', () => {
    expect(defaultLogFormat({ write: () => true, isTTY: true })).toBe('pretty')
    expect(defaultLogFormat({ write: () => true, isTTY: false })).toBe('json')
    expect(defaultLogFormat({ write: () => true })).toBe('json')

    const terminal = sink(true)
    createLogger({ name: 'broker', output: terminal }).info('broker listening')
    expect(terminal.text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.* \(broker\): .*broker listening/)

    const pipe = sink(false)
    createLogger({ name: 'broker', output: pipe }).info('broker listening')
    expect(JSON.parse(pipe.text)).toMatchObject({ msg: 'broker listening' })

    const npmStart = sink(false)
    createLogger({ name: 'printwire', output: npmStart, defaultFormat: 'pretty' }).info('broker listening')
    expect(npmStart.text).toMatch(/INFO \(printwire\): broker listening/)

    // npm start's parts share one logger: each line says whose it is.
    const parts = sink(false)
    createLogger({ name: 'printwire', output: parts, format: 'pretty' }).child({ part: 'relay' }).info({ relayId: 'demo' }, 'relay started')
    expect(parts.text).toMatch(/INFO \(printwire\): \[relay\] relay started \{"relayId":"demo"\}\n$/)

    const asked = sink(true)
    createLogger({ name: 'printwire', output: asked, format: 'json', defaultFormat: 'pretty' }).info('broker listening')
    expect(JSON.parse(asked.text)).toMatchObject({ msg: 'broker listening' })
  })

  it('LOG_FORMAT accepts pretty and json only, and names both when refused', () => {
    expect(configFields.LOG_FORMAT.parse('pretty')).toBe('pretty')
    expect(configFields.LOG_FORMAT.parse('json')).toBe('json')
    expect(configFields.LOG_FORMAT.parse(undefined)).toBeUndefined()
    expect(configFields.LOG_FORMAT.unwrap().options).toEqual([...LOG_FORMATS])
    const refused = configFields.LOG_FORMAT.safeParse('text')
    expect(refused.success).toBe(false)
    expect(refused.error?.issues[0]?.message).toBe('must be pretty or json')
  })
})
