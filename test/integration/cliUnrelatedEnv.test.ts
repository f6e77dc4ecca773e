/**
 * Review of issue 11 (cli/ with one config schema): a variable a command does not read does not stop it. Before
 * (7a6daea) `printwire user ...` and `mosquitto-export` never looked at MQTT_URL, and `print --url` overrode it;
 * a stale or mistyped MQTT_URL in the shell must not make them fail, nor a variable whose flag is given. The real `bin/printwire.js`, in a child process.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { addUser } from '../../cli/userCommand.ts'
import { CliRun } from '../../harness/cliRun.ts'
import { TestClient } from '../../harness/mqttClient.ts'
import { Cleanup, startBroker, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

/** Not a broker URL (no scheme): only a command that connects to MQTT_URL has a reason to refuse it. */
const BAD_MQTT_URL = 'localhost:1883'

describe('printwire and a variable the command does not read', () => {
  it('user add/list and mosquitto-export work with a bad MQTT_URL in the environment', async () => {
    const file = path.join(await tempDir(cleanup), 'auth.json')
    await addUser(file, 'alice', { password: 'alice-pw', role: 'client', printers: 'lobby' })
    const env = { MQTT_URL: BAD_MQTT_URL, AUTH_FILE: file }
    const added = await new CliRun(cleanup, ['user', 'add', 'bob', '--password', 'bob-pw', '--role', 'client', '--printers', 'bar'], undefined, env).exit()
    expect(added.code, added.stderr).toBe(0)
    const listed = await new CliRun(cleanup, ['user', 'list'], undefined, env).exit()
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toContain('bob')
    const out = path.join(path.dirname(file), 'out')
    const exported = await new CliRun(cleanup, ['mosquitto-export', '--out', out], undefined, env).exit()
    expect(exported.code, exported.stderr).toBe(0)
    expect(await readFile(path.join(out, 'acl'), 'utf8')).toContain('topic write printers/bar/jobs')
    // A flag given: its variable is not read, so not refused either.
    const flagged = await new CliRun(cleanup, ['mosquitto-export', '--out', out, '--prefix', 'venue'], undefined, { ...env, TOPIC_PREFIX: 'venue/+' }).exit()
    expect(flagged.code, flagged.stderr).toBe(0)
    expect(await readFile(path.join(out, 'acl'), 'utf8')).toContain('topic write venue/bar/jobs')
  })

  it('print --url publishes to that broker whatever MQTT_URL holds', async () => {
    const broker = cleanup.add(await startBroker())
    // A relay's session (its client id, persistent): otherwise the broker answers the job NO_RELAY.
    const watcher = cleanup.add(await TestClient.connect(broker.mqttUrl, { clientId: 'printwire-relay:watch:lobby', clean: false }))
    await watcher.subscribe('printers/lobby/jobs')
    const run = new CliRun(cleanup, ['print', '--printer', 'lobby', '--url', broker.mqttUrl, '--id', 'cli-url-1', '--timeout', '60000'], Buffer.from('<RC1,1>hi<p>'), { MQTT_URL: BAD_MQTT_URL })
    const job = await Promise.race([
      watcher.waitFor((m) => m.topic === 'printers/lobby/jobs' && m.json?.id === 'cli-url-1', 15_000, 'the job'),
      run.exit().then((exit) => { throw new Error(`printwire exited ${String(exit.code)} before publishing: ${exit.stderr}`) })
    ])
    expect(job.json).toMatchObject({ id: 'cli-url-1' })
  })
})
