/**
 * The ticket editor holds text; printers take bytes. FGL text is UTF-8 as typed, but a `<G#>` command is followed
 * by exactly # raw bytes of graphics (BOCA.md), which UTF-8 would turn into other bytes and another count. So the
 * page's job is its text as UTF-8, except the # bytes after each `<G#>`: there each character U+0000–U+00FF is one
 * byte (its code), as the printer reads them. A template's bytes come back into the editor the same way (`jobText`),
 * so a `<G#>` logo loaded from examples/tickets/ prints and previews byte for byte, and editing the text around it
 * keeps it. A character above U+00FF in graphics data is UTF-8 there too (it has no single byte).
 *
 * Also a map from byte offsets (the lint findings' positions) back to the editor's character offsets.
 */

/** `<G` digits `>`, as fgl/tokens.ts and the relay read a graphics command. */
const GRAPHICS_COMMAND = /<G(\d+)>/y

export interface JobBytes {
  bytes: Uint8Array
  /** For each byte offset 0…bytes.length, the text offset (UTF-16 index) of the character it belongs to. */
  charAt: (byteOffset: number) => number
}

/** The job's bytes for the editor's `text`, and where each byte is in the text. */
export function jobBytes (text: string): JobBytes {
  const out = new Uint8Array(text.length * 3)
  const chars = new Uint32Array(text.length * 3 + 1)
  let length = 0
  let graphicsLeft = 0
  let i = 0
  while (i < text.length) {
    const code = text.codePointAt(i) as number
    const width = code > 0xffff ? 2 : 1
    if (graphicsLeft > 0 && code <= 0xff) {
      chars[length] = i
      out[length++] = code
      graphicsLeft--
      i++
      continue
    }
    const start = length
    length = putUtf8(out, length, code)
    for (let b = start; b < length; b++) chars[b] = i
    if (graphicsLeft > 0) {
      graphicsLeft = Math.max(0, graphicsLeft - (length - start))
    } else if (code === 0x3c) {
      GRAPHICS_COMMAND.lastIndex = i
      const match = GRAPHICS_COMMAND.exec(text)
      if (match !== null) {
        // The command itself is ASCII: one byte a character.
        for (let k = 1; k < match[0].length; k++) {
          chars[length] = i + k
          out[length++] = match[0].charCodeAt(k)
        }
        i += match[0].length
        graphicsLeft = Number(match[1])
        continue
      }
    }
    i += width
  }
  chars[length] = text.length
  const bytes = out.slice(0, length)
  return { bytes, charAt: (byteOffset) => chars[Math.max(0, Math.min(byteOffset, length))] as number }
}

/** The editor's text for a job's bytes (a template): UTF-8, and one character a byte in `<G#>` data. */
export function jobText (bytes: Uint8Array): string {
  const decoder = new TextDecoder('utf-8')
  let text = ''
  let from = 0
  let i = 0
  while (i < bytes.length) {
    if (bytes[i] !== 0x3c || bytes[i + 1] !== 0x47) { i++; continue }
    let end = i + 2
    while (end < bytes.length && bytes[end] as number >= 0x30 && bytes[end] as number <= 0x39) end++
    if (end === i + 2 || bytes[end] !== 0x3e) { i++; continue }
    const count = Number(String.fromCharCode(...bytes.subarray(i + 2, end)))
    const dataEnd = Math.min(bytes.length, end + 1 + count)
    text += decoder.decode(bytes.subarray(from, end + 1))
    for (let k = end + 1; k < dataEnd; k++) text += String.fromCharCode(bytes[k] as number)
    from = i = dataEnd
  }
  return text + decoder.decode(bytes.subarray(from))
}

function putUtf8 (out: Uint8Array, at: number, code: number): number {
  if (code < 0x80) {
    out[at++] = code
  } else if (code < 0x800) {
    out[at++] = 0xc0 | (code >> 6)
    out[at++] = 0x80 | (code & 0x3f)
  } else if (code < 0x10000) {
    // A lone surrogate is U+FFFD, as TextEncoder writes it.
    if (code >= 0xd800 && code <= 0xdfff) return putUtf8(out, at, 0xfffd)
    out[at++] = 0xe0 | (code >> 12)
    out[at++] = 0x80 | ((code >> 6) & 0x3f)
    out[at++] = 0x80 | (code & 0x3f)
  } else {
    out[at++] = 0xf0 | (code >> 18)
    out[at++] = 0x80 | ((code >> 12) & 0x3f)
    out[at++] = 0x80 | ((code >> 6) & 0x3f)
    out[at++] = 0x80 | (code & 0x3f)
  }
  return at
}

/**
 * What the page prints for `text`: the text itself when its job bytes are its UTF-8 (the job envelope then carries
 * it as readable text, `encoding: "utf8"`), the bytes otherwise (`<G#>` data above 0x7F: base64 in the envelope).
 */
export function jobData (text: string): string | Uint8Array {
  const { bytes } = jobBytes(text)
  const utf8 = new TextEncoder().encode(text)
  return utf8.length === bytes.length && utf8.every((byte, i) => byte === bytes[i]) ? text : bytes
}
