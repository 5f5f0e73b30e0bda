import { describe, it, expect } from 'vitest'
import { makeI18n } from './i18n'
import { formatWhen } from './when'

describe('formatWhen', () => {
  it('writes a 24-hour time in the words of the language shown', () => {
    const i18n = makeI18n()
    const t = i18n.global.t as never
    const v = new Date(2026, 10, 27, 0, 5).toISOString() // a Friday, five past midnight
    expect(formatWhen(v, t)).toBe('2026年11月27日 周五 00:05')
    i18n.global.locale.value = 'en'
    expect(formatWhen(v, t)).toBe('Fri 27 Nov 2026, 00:05')
    expect(formatWhen(v, t, false)).toBe('27 Nov 2026, 00:05')
    expect(formatWhen('0001-01-01T00:00:00Z', t)).toBe('')
  })
})
