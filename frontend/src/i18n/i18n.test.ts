import { describe, it, expect } from 'vitest'
import zhCN from './zh-CN'
import en from './en'

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  )
}

describe('messages', () => {
  it('has every Chinese message in English too, and no more', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })
  it('has no empty Chinese message except the deliberate blank labels', () => {
    const empty = keys(zhCN).filter((k) => k.split('.').reduce((o: any, p) => o[p], zhCN) === '')
    expect(empty).toEqual(['status.version.version'])
  })
})
