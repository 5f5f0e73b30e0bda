import { describe, it, expect } from 'vitest'
import { makeI18n } from '../i18n'
import { messageOf, problemsOf, refusalOf } from './kiosk'

describe('messageOf', () => {
  const i18n = makeI18n()
  const t = i18n.global.t as never

  it('words a refusal code from Go in the current language, with its arguments', () => {
    const e = { code: 'wrong_pin', args: { left: '3' } }
    i18n.global.locale.value = 'zh-CN'
    expect(messageOf(e, t)).toBe('密码错误，还可再试 3 次')
    i18n.global.locale.value = 'en'
    expect(messageOf(e, t)).toBe('Wrong PIN: 3 tries left')
  })

  it('words every refused field of a form with its label', () => {
    const e = {
      code: 'form',
      problems: [
        { code: 'required', field: 'phone' },
        { code: 'year_range', field: 'graduation_year', args: { arg: '1990–2027' } },
      ],
    }
    expect(problemsOf(e)).toHaveLength(2)
    i18n.global.locale.value = 'zh-CN'
    expect(messageOf(e, t)).toBe('请填写手机号\n毕业年份应在 1990–2027 之间，请核对')
    i18n.global.locale.value = 'en'
    expect(messageOf(e, t).split('\n')[0]).toBe('mobile phone is required; please fill it in')
  })

  it('reads a refusal sent as JSON text and never shows what is not one', () => {
    expect(refusalOf('{"code":"login_first"}')?.code).toBe('login_first')
    i18n.global.locale.value = 'en'
    const orig = console.error
    console.error = () => {}
    expect(messageOf(new Error('dial tcp 127.0.0.1: refused'), t)).toBe('Something went wrong: please ask the centre staff')
    console.error = orig
  })
})
