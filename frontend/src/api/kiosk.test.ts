import { describe, it, expect } from 'vitest'
import { messageOf, problemsOf, bilingual } from './kiosk'

describe('messageOf', () => {
  it('keeps the language asked for of a "中文 / English" refusal', () => {
    const e = '无法连接中心系统 / Cannot reach the central system (dial tcp: refused / retry)'
    expect(messageOf(e, 'zh-CN')).toBe('无法连接中心系统')
    expect(messageOf(e, 'en')).toBe('Cannot reach the central system (dial tcp: refused / retry)')
  })
  it('joins the fields of a form refusal', () => {
    const e = { problems: [{ field: 'a', zh: '甲', en: 'A' }, { field: 'b', zh: '乙', en: 'B' }] }
    expect(problemsOf(e)).toHaveLength(2)
    expect(messageOf(e, 'zh-CN')).toBe('甲\n乙')
    expect(messageOf(e, 'en')).toBe('A\nB')
  })
  it('passes other text through', () => {
    expect(messageOf(new Error('plain'), 'zh-CN')).toBe('plain')
    expect(bilingual({ zh: '眨眼', en: 'Blink' }, 'en')).toBe('Blink')
  })
})
