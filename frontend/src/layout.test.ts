import { describe, it, expect } from 'vitest'
import { layoutProblems, type Tappable } from './layout'

const screen = { x: 0, y: 0, w: 1080, h: 1920 }

function item(id: string, x: number, y: number, w = 100, h = 40, visible = screen): Tappable {
  const el = document.createElement('button')
  el.dataset.testid = id
  document.body.appendChild(el)
  return { id, el, box: { x, y, w, h }, visible }
}

describe('layoutProblems', () => {
  it('finds nothing wrong with buttons apart and on the screen', () => {
    const a = item('a', 10, 10)
    const b = item('b', 10, 100)
    expect(layoutProblems([a, b], (x, y) => (y < 60 ? a.el : b.el))).toEqual([])
  })

  it('finds a button beyond the screen or cut by its scrolling container', () => {
    const a = item('submit', 10, 1900) // 40 high: its bottom is off the 1920 screen
    const b = item('next', 10, 700, 100, 40, { x: 0, y: 0, w: 1080, h: 720 }) // the screen area ends at 720
    const got = layoutProblems([a, b], () => null)
    expect(got).toEqual([
      { code: 'off_screen', ids: ['submit'] },
      { code: 'off_screen', ids: ['next'] },
    ])
  })

  it('finds a button under another element, and two that overlap', () => {
    const a = item('logout', 900, 16)
    const b = item('lang', 950, 16)
    const banner = document.createElement('p')
    banner.dataset.testid = 'error'
    const got = layoutProblems([a, b], () => banner)
    expect(got).toContainEqual({ code: 'covered', ids: ['logout', 'error'] })
    expect(got).toContainEqual({ code: 'overlap', ids: ['logout', 'lang'] })
  })

  it('does not count what a docked keyboard covers while it is open', () => {
    const a = item('pw-set', 10, 1800)
    const kb = document.createElement('div')
    kb.className = 'text-keyboard'
    const key = document.createElement('button')
    kb.appendChild(key)
    expect(layoutProblems([a], () => key)).toEqual([])
    document.body.appendChild(kb)
    const k = { id: 'q', el: key, box: { x: 10, y: 1800, w: 60, h: 60 }, visible: screen }
    expect(layoutProblems([a, k], () => null)).toEqual([])
    // ... but the field being typed in must not be under it.
    expect(layoutProblems([a], () => key, a.el)).toEqual([{ code: 'under_keyboard', ids: ['pw-set'] }])
  })
})
