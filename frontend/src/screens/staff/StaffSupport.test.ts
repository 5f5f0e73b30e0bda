import { describe, it, expect, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { makeI18n } from '../../i18n'
import StaffSupport from './StaffSupport.vue'
import * as kiosk from '../../api/kiosk'

vi.mock('../../api/kiosk', async (orig) => ({
  messageOf: ((await orig()) as typeof kiosk).messageOf,
  StaffDiagnostics: vi.fn(),
  StaffDiagnosticsQR: vi.fn(),
  StaffRescanCameras: vi.fn(),
  StaffRestart: vi.fn(),
}))

describe('StaffSupport', () => {
  it('writes the bundle, shows the QR, rescans, and restarts only on a second tap', async () => {
    vi.mocked(kiosk.StaffDiagnostics).mockResolvedValue('/media/examkiosk-usb/examkiosk-diag-k1.zip')
    vi.mocked(kiosk.StaffDiagnosticsQR).mockResolvedValue({ summary: 'EK1 host=k1 v=1.0', png: 'data:image/png;base64,AAAA' } as never)
    vi.mocked(kiosk.StaffRescanCameras).mockResolvedValue()
    vi.mocked(kiosk.StaffRestart).mockResolvedValue()
    const w = mount(StaffSupport, { global: { plugins: [makeI18n()] } })

    await w.get('[data-testid=staff-diag-usb]').trigger('click')
    await flushPromises()
    expect(kiosk.StaffDiagnostics).toHaveBeenCalledWith('')
    expect(w.text()).toContain('/media/examkiosk-usb/examkiosk-diag-k1.zip')

    await w.get('[data-testid=staff-diag-qr]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=staff-diag-qrcode] img').attributes('src')).toBe('data:image/png;base64,AAAA')
    expect(w.get('[data-testid=staff-diag-qrcode]').text()).toContain('EK1 host=k1')

    await w.get('[data-testid=staff-rescan]').trigger('click')
    await flushPromises()
    expect(kiosk.StaffRescanCameras).toHaveBeenCalledOnce()

    await w.get('[data-testid=staff-restart]').trigger('click')
    await flushPromises()
    expect(kiosk.StaffRestart).not.toHaveBeenCalled()
    await w.get('[data-testid=staff-restart]').trigger('click')
    await flushPromises()
    expect(kiosk.StaffRestart).toHaveBeenCalledOnce()
  })

  it('says what to do when no USB stick is there', async () => {
    vi.mocked(kiosk.StaffDiagnostics).mockRejectedValue(JSON.stringify({ code: 'usb_not_found' }))
    const w = mount(StaffSupport, { global: { plugins: [makeI18n()] } })
    await w.get('[data-testid=staff-diag-usb]').trigger('click')
    await flushPromises()
    expect(w.get('.error').text()).toBe('未找到U盘，请插入U盘后重试，或用“显示二维码”查看摘要')
  })
})
