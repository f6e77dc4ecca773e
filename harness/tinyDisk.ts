/**
 * A real, tiny file system for disk-full tests: a tmpfs of a few MiB mounted on a temp dir (needs root, as in
 * CI), which `fill()` fills to the last byte with a file and `free()` empties again. Where mounting is not
 * permitted, `mountTinyDisk` says why and the tests that need it are skipped, saying so; under CI
 * (`CI` set) that is an error instead, so the disk-full tests cannot silently not run there.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, open, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Cleanup } from './parts.ts'

const run = promisify(execFile)

export interface TinyDisk {
  dir: string
  /** Writes a file until the file system has no byte left (ENOSPC). */
  fill(): Promise<void>
  /** Removes that file: the space is back. */
  free(): Promise<void>
}

/** Whether this process may mount a tmpfs; the reason when not. Tried once. */
export const tinyDiskUnavailable: string | undefined = await (async () => {
  if (process.platform !== 'linux') return `tmpfs mounts need Linux (this is ${process.platform})`
  const dir = await mkdtemp(path.join(os.tmpdir(), 'printwire-mount-check-'))
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir])
    await run('umount', [dir])
    return undefined
  } catch (error) {
    return `cannot mount a tmpfs (run as root, as CI does): ${(error as Error).message.split('\n')[0] ?? ''}`
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})()

if (tinyDiskUnavailable !== undefined) {
  if (process.env.CI !== undefined) throw new Error(`the disk-full tests must run in CI, but ${tinyDiskUnavailable}`)
  console.warn(`disk-full tests skipped: ${tinyDiskUnavailable}`)
}

export async function mountTinyDisk (cleanup: Cleanup, sizeBytes: number): Promise<TinyDisk> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'printwire-tiny-disk-'))
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir])
  const filler = path.join(dir, 'filler')
  cleanup.defer(async () => {
    // Lazily: a part that failed to stop may still hold a file open.
    await run('umount', ['-l', dir])
    await rm(dir, { recursive: true, force: true })
  })
  return {
    dir,
    async fill () {
      const file = await open(filler, 'a')
      const chunk = Buffer.alloc(64 * 1024, 0x66)
      try {
        // A short write takes the last bytes; the write after it fails.
        for (;;) {
          try {
            await file.write(chunk)
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return
            throw error
          }
        }
      } finally {
        await file.close()
      }
    },
    async free () {
      await rm(filler, { force: true })
    }
  }
}
