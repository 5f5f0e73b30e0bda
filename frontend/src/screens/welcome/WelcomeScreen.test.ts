import { describe, it, expect, vi, beforeEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { makeI18n } from '../../i18n'
import WelcomeScreen from './WelcomeScreen.vue'
import * as kiosk from '../../api/kiosk'

vi.mock('../../api/kiosk', () => ({
  Welcome: vi.fn(),
  Status: vi.fn(),
  ReportRendered: vi.fn(async () => {}),
}))

const welcome = vi.mocked(kiosk.Welcome)
const rendered = vi.mocked(kiosk.ReportRendered)

function info(over: Partial<Record<string, unknown>> = {}) {
  return {
    centreName: '杭州市人事考试中心',
    language: 'zh-CN',
    demo: false,
    version: '1.2.3',
    exams: [{ id: 'e1', name: '2026年下半年公务员考试', registerUntil: '2026-12-20T10:00:00Z', positions: 3 }],
    ...over,
  } as never
}

describe('WelcomeScreen', () => {
  beforeEach(() => {
    welcome.mockReset()
    rendered.mockClear()
  })

  it('shows the centre name and open exams, then reports it rendered', async () => {
    welcome.mockResolvedValue(info())
    const w = mount(WelcomeScreen, { global: { plugins: [makeI18n()] } })
    await flushPromises()
    expect(w.get('[data-testid=centre-name]').text()).toBe('杭州市人事考试中心')
    expect(w.get('[data-testid=exam-list]').text()).toContain('2026年下半年公务员考试')
    expect(w.get('[data-testid=exam-list]').text()).toContain('3 个岗位')
    expect(w.get('[data-testid=start]').attributes('disabled')).toBeUndefined()
    expect(rendered).toHaveBeenCalledWith('welcome')
  })

  it('says so in Chinese when no exam is open and disables start', async () => {
    welcome.mockResolvedValue(info({ exams: [] }))
    const w = mount(WelcomeScreen, { global: { plugins: [makeI18n()] } })
    await flushPromises()
    expect(w.get('[data-testid=no-exams]').text()).toContain('暂无正在报名的考试')
    expect(w.get('[data-testid=start]').attributes('disabled')).toBeDefined()
  })

  it('starts in the configured language', async () => {
    welcome.mockResolvedValue(info({ language: 'en', exams: [] }))
    const w = mount(WelcomeScreen, { global: { plugins: [makeI18n()] } })
    await flushPromises()
    expect(w.get('[data-testid=no-exams]').text()).toContain('No exam is open')
  })

  it('shows a refusal that says what to do when Go fails', async () => {
    welcome.mockRejectedValue(new Error('store closed'))
    const w = mount(WelcomeScreen, { global: { plugins: [makeI18n()] } })
    await flushPromises()
    expect(w.get('[role=alert]').text()).toContain('请联系现场工作人员')
    expect(rendered).not.toHaveBeenCalled()
  })
})
