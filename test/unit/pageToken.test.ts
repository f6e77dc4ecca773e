/** web/page/pageToken.ts: a token in the page's fragment is read once and taken out of the address. */
import { describe, expect, it } from 'vitest'
import { takeFragmentToken } from '../../web/page/pageToken.ts'

function take (hash: string): { token: string | undefined, address: string | undefined } {
  let address: string | undefined
  const history = { state: null, replaceState: (_state: unknown, _title: string, url?: string | URL | null) => { address = String(url) } }
  const token = takeFragmentToken({ hash, pathname: '/', search: '?printer=lobby' }, history)
  return { token, address }
}

describe('a token in the page\'s address', () => {
  it.each([
    ['#token=pwt1.abc.def', 'pwt1.abc.def', '/?printer=lobby'],
    ['#token=pwt1.abc.def&view=log', 'pwt1.abc.def', '/?printer=lobby#view=log'],
    ['#view=log&token=pwt1.abc.def', 'pwt1.abc.def', '/?printer=lobby#view=log'],
    ['#token=', undefined, '/?printer=lobby'],
    ['#view=log', undefined, undefined],
    ['', undefined, undefined]
  ])('%s: token %s, address then %s', (hash, token, address) => {
    expect(take(hash)).toEqual({ token, address })
  })
})
