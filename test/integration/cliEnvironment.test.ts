/**
 * `printwire`'s environment as users set it (cli/config.ts), the real `bin/printwire.js` in a child process:
 * TOPIC_PREFIX and AUTH_FILE with the flags that override them, and bad values refused before anything is
 * written or sent. (The rules themselves: test/unit/cliConfig.test.ts.)
 */
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { addUser } from '../../cli/userCommand.ts'
import { CliRun } from '../../harness/cliRun.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, startBroker, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

function cli (args: string[], stdin?: Buffer, env?: Record<string, string>): CliRun {
  return new CliRun(cleanup, args, stdin, env)
}

describe('printwire mosquitto-export and a bad environment', () => {
  async function usersFile (): Promise<string> {
    const file = path.join(await tempDir(cleanup), 'auth.json')
    await addUser(file, 'alice', { password: 'alice-pw', role: 'client', printers: 'lobby' })
    return file
  }

  it('writes the ACL under TOPIC_PREFIX from AUTH_FILE; --prefix and --file override them', async () => {
    const file = await usersFile()
    const out = path.join(path.dirname(file), 'out')
    const fromEnv = await cli(['mosquitto-export', '--out', out], undefined, { AUTH_FILE: file, TOPIC_PREFIX: 'venue' }).exit()
    expect(fromEnv.code, fromEnv.stderr).toBe(0)
    expect(await readFile(path.join(out, 'acl'), 'utf8')).toContain('topic write venue/lobby/jobs')
    const fromFlags = await cli(['mosquitto-export', '--out', out, '--file', file, '--prefix', 'hall/a'], undefined, { AUTH_FILE: path.join(out, 'none.json'), TOPIC_PREFIX: 'venue' }).exit()
    expect(fromFlags.code, fromFlags.stderr).toBe(0)
    expect(await readFile(path.join(out, 'acl'), 'utf8')).toContain('topic write hall/a/lobby/jobs')
  })

  it('refuses a --prefix with wildcards, naming the flag, and writes nothing', async () => {
    // Before: the ACL was written with `topic write #/lobby/jobs`.
    const file = await usersFile()
    const out = path.join(path.dirname(file), 'out')
    const run = await cli(['mosquitto-export', '--file', file, '--out', out, '--prefix', '#']).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toBe('printwire: INVALID_ARGUMENT: --prefix "#": must be MQTT topic levels without wildcards\n')
    await expect(stat(out)).rejects.toThrow(/ENOENT/)
  })

  it('refuses a bad MQTT_URL or TOPIC_PREFIX at once, naming each, and sends nothing; --help still works', async () => {
    const broker = cleanup.add(await startBroker())
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl))
    await watcher.subscribe('#')
    const env = { MQTT_URL: broker.mqttUrl.replace('mqtt://', ''), TOPIC_PREFIX: 'venue/+' }
    const run = await cli(['print', '--printer', 'lobby'], Buffer.from('<RC1,1>bad env<p>'), env).exit()
    expect(run.code).toBe(1)
    expect(run.stderr).toBe('printwire: INVALID_CONFIG: invalid printwire configuration:\n' +
      '  - MQTT_URL: must be an mqtt://, mqtts://, ws:// or wss:// URL\n' +
      '  - TOPIC_PREFIX: must be MQTT topic levels without wildcards\n')
    expect(run.stdout).toBe('')
    const help = await cli(['print', '--help'], undefined, env).exit()
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--prefix <prefix>')
    // Nothing but the broker's own server/time reached it.
    await watcher.publish('fence', 'x')
    await watcher.waitFor((m) => m.topic === 'fence', 10_000, 'the fence')
    expect(watcher.messages.filter((m) => m.topic !== 'fence' && m.topic !== 'server/time')).toEqual([])
  })
})
