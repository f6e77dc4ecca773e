/**
 * CPU time per process over a measurement, from /proc (Linux): where a run's CPU went, so that a table can
 * say which part limits it (the busiest process at close to one core is the limit: each part is one
 * JavaScript thread) and how much CPU one job costs in each part.
 */
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { nowMs } from './stats.ts'

let ticksPerSecond: number | undefined

function clockTicks (): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  return ticksPerSecond
}

/** User + system CPU of a process, all its threads (LevelDB's and libuv's included), in ms. */
export async function cpuMsOf (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces) in parentheses; utime and stime are fields 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / clockTicks()
}

export interface CpuUse {
  /** CPU ms per part over the measurement. */
  cpuMs: Record<string, number>
  wallMs: number
}

/** Runs `measure` and returns what each process of `parts` (name → pid) spent meanwhile. */
export async function withCpu<T> (parts: Record<string, number>, measure: () => Promise<T>): Promise<{ result: T, cpu: CpuUse }> {
  const names = Object.keys(parts)
  const read = async (): Promise<number[]> => await Promise.all(names.map(async (name) => await cpuMsOf(parts[name] as number)))
  const before = await read()
  const started = nowMs()
  const result = await measure()
  const wallMs = nowMs() - started
  const after = await read()
  const cpuMs: Record<string, number> = {}
  names.forEach((name, i) => { cpuMs[name] = (after[i] as number) - (before[i] as number) })
  return { result, cpu: { cpuMs, wallMs } }
}

/** "load 30 · broker 120 · relay 290 = 440": CPU µs per unit of work, by part, and their sum. */
export function cpuPerUnit (cpu: CpuUse, units: number): string {
  const parts = Object.entries(cpu.cpuMs).map(([name, ms]) => [name, Math.round(ms * 1000 / Math.max(1, units))] as const)
  const total = parts.reduce((sum, [, us]) => sum + us, 0)
  return `${parts.map(([name, us]) => `${name} ${us}`).join(' · ')} = ${total}`
}

/** "relay 92 %": the part that used the most CPU, as a share of one core over the measurement. */
export function busiest (cpu: CpuUse): string {
  const [name, ms] = Object.entries(cpu.cpuMs).sort((a, b) => b[1] - a[1])[0] ?? ['', 0]
  return `${name} ${Math.round(ms / Math.max(1, cpu.wallMs) * 100)} %`
}
