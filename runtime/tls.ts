/** TLS_CERT / TLS_KEY: the PEM files read once at start-up, with an error that names the variable. */
import { readFile } from 'node:fs/promises'
import { createSecureContext } from 'node:tls'
import { ConfigError } from './config.ts'

export interface TlsFiles {
  cert: Buffer
  key: Buffer
}

export async function readTlsFiles (part: string, config: { TLS_CERT?: string | undefined, TLS_KEY?: string | undefined }): Promise<TlsFiles | undefined> {
  if (config.TLS_CERT === undefined || config.TLS_KEY === undefined) return undefined
  const problems: string[] = []
  const read = async (name: string, file: string): Promise<Buffer | undefined> => {
    try {
      return await readFile(file)
    } catch (error) {
      problems.push(`${name}: cannot read ${file}: ${(error as Error).message}`)
      return undefined
    }
  }
  const cert = await read('TLS_CERT', config.TLS_CERT)
  const key = await read('TLS_KEY', config.TLS_KEY)
  if (cert === undefined || key === undefined) throw new ConfigError(part, problems)
  try {
    createSecureContext({ cert, key })
  } catch (error) {
    throw new ConfigError(part, [`TLS_CERT/TLS_KEY: not a usable PEM certificate and matching key: ${(error as Error).message}`])
  }
  return { cert, key }
}
