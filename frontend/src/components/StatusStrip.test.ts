import { describe, it, expect, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { makeI18n } from '../i18n'
import StatusStrip from './StatusStrip.vue'
import * as kiosk from '../api/kiosk'

vi.mock('../api/kiosk', () => ({ Welcome: vi.fn(), Status: vi.fn(), ReportRendered: vi.fn(), onEvent: vi.fn(() => () => {}) }))

describe('StatusStrip', () => {
  it('labels each status item from Go in the current language', async () => {
    vi.mocked(kiosk.Status).mockResolvedValue({
      version: '1.2.3',
      items: [
        { key: 'camera', state: 'ok', code: 'ok', detail: 'cap13.mjpeg' },
        { key: 'central', state: 'warn', code: 'offline', detail: 'http://127.0.0.1:8700' },
        { key: 'version', state: 'ok', code: 'version', detail: '1.2.3' },
      ],
    } as never)
    const i18n = makeI18n()
    const w = mount(StatusStrip, { global: { plugins: [i18n] } })
    await flushPromises()
    expect(w.get('[data-testid=status-camera]').text()).toContain('摄像头：正常')
    expect(w.get('[data-testid=status-central]').attributes('data-state')).toBe('warn')
    expect(w.get('[data-testid=status-central]').text()).toContain('离线')
    expect(w.get('[data-testid=status-version]').text()).toContain('1.2.3')
    i18n.global.locale.value = 'en'
    await flushPromises()
    expect(w.get('[data-testid=status-central]').text()).toContain('Central: offline')
    expect(w.get('[data-testid=status-camera]').text()).toContain('Camera: ok')
    w.unmount()
  })
})

describe('StatusStrip camera source', () => {
  it('words the demo recording from its code in each language, not from Go', async () => {
    vi.mocked(kiosk.Status).mockResolvedValue({
      version: '1',
      items: [{ key: 'camera', state: 'ok', code: 'ok', source: 'follow_replay', detail: 'demo-follow.mjpeg' }],
    } as never)
    const i18n = makeI18n()
    const w = mount(StatusStrip, { global: { plugins: [i18n] } })
    await flushPromises()
    expect(w.get('[data-testid=status-camera]').text()).toContain('摄像头：正常演示录像（随提示动作） · demo-follow.mjpeg')
    expect(w.get('[data-testid=status-camera]').attributes('data-state')).toBe('ok')
    i18n.global.locale.value = 'en'
    await flushPromises()
    expect(w.get('[data-testid=status-camera]').text()).toMatch(/^Camera: ok ?demo recording \(follows the prompts\) · demo-follow\.mjpeg/)
    w.unmount()
  })
})
