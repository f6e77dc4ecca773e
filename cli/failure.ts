/**
 * What a failed command prints on stderr. Every error the command line branches on carries a `code` string
 * (the commands' INVALID_ARGUMENT, the print outcome codes, INVALID_CONFIG, INVALID_AUTH_FILE, CANNOT_EXPORT;
 * Node's ENOENT, ...): this is the one place that reads it.
 */

/** The error's `code`, if it has a string one. */
export function errorCode (error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** `printwire: CODE: message`; the code once, even where the message already starts with it (Node's file errors). */
export function failureLine (error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = errorCode(error)
  return code === undefined || message.startsWith(`${code}:`) ? `printwire: ${message}` : `printwire: ${code}: ${message}`
}
