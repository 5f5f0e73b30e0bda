// Chinese characters by their pinyin, for the on-screen name keyboard. The
// characters are GB 2312's 3,755 level-1 (most common) characters — every
// common surname and given-name character — read with the browser's own
// GB 2312 decoder; their readings come from pinyin-pro (polyphones under
// each reading). Built once, on first use (about 0.3 s).
let index: Map<string, string[]> | undefined

async function build(): Promise<Map<string, string[]>> {
  const { pinyin } = await import('pinyin-pro')
  const dec = new TextDecoder('gb2312')
  const m = new Map<string, string[]>()
  for (let hi = 0xb0; hi <= 0xd7; hi++) {
    for (let lo = 0xa1; lo <= 0xfe; lo++) {
      if (hi === 0xd7 && lo > 0xf9) break
      const c = dec.decode(new Uint8Array([hi, lo]))
      for (const p of pinyin(c, { toneType: 'none', type: 'array', multiple: true })) {
        const list = m.get(p) ?? []
        if (!list.includes(c)) list.push(c)
        m.set(p, list)
      }
    }
  }
  return m
}

/** candidates returns the characters read as syllable, or, while the
 * syllable is still being typed, those of the syllables it begins. */
export async function candidates(syllable: string, limit = 60): Promise<string[]> {
  if (!syllable) return []
  index ??= await build()
  const exact = index.get(syllable)
  if (exact) return exact.slice(0, limit)
  const out: string[] = []
  for (const [p, cs] of index) {
    if (p.startsWith(syllable)) for (const c of cs) if (!out.includes(c)) out.push(c)
    if (out.length >= limit) break
  }
  return out.slice(0, limit)
}
