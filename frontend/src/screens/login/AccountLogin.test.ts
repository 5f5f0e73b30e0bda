import { describe, it, expect, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { ref } from 'vue'
import { makeI18n } from '../../i18n'
import LoginScreen from './LoginScreen.vue'
import * as kiosk from '../../api/kiosk'

vi.mock('../../api/kiosk', async (orig) => {
  const real = await orig<typeof import('../../api/kiosk')>()
  return { ...real, AccountCaptcha: vi.fn(async () => ({ id: 'c1', image: 'data:image/png;base64,' })), AccountLogin: vi.fn() }
})

describe('AccountLogin', () => {
  it('has no set-password mode: "forgot password" leads back to the QR login', async () => {
    const journey = ref({ step: 'login', registrations: [], problems: [] })
    const w = mount(LoginScreen, { global: { plugins: [makeI18n()], provide: { journey, run: vi.fn() } } })
    await w.get('[data-testid=account-mode]').trigger('click')
    await flushPromises()
    expect(kiosk.AccountCaptcha).toHaveBeenCalled()
    expect(w.find('[data-testid=acc-name]').exists()).toBe(false)
    expect(w.find('[data-testid=acc-password2]').exists()).toBe(false)
    await w.get('[data-testid=acc-forgot]').trigger('click')
    expect(w.find('[data-testid=account-form]').exists()).toBe(false)
    expect(w.find('[data-testid=login-alipay]').exists()).toBe(true)
  })
})
