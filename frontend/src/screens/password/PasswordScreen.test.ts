import { describe, it, expect, vi, beforeEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { ref } from 'vue'
import { makeI18n } from '../../i18n'
import PasswordScreen from './PasswordScreen.vue'
import * as kiosk from '../../api/kiosk'

vi.mock('../../api/kiosk', async (orig) => {
  const real = await orig<typeof import('../../api/kiosk')>()
  return { ...real, AccountCaptcha: vi.fn(), SetPassword: vi.fn(), SkipPassword: vi.fn(), Journey: vi.fn() }
})

const candidate = { name: '张三', idMasked: '110***********002X', source: 'alipay_qr' }
const onPassword = { step: 'password', candidate, registrations: [], problems: [], canSetPassword: true }
const atFace = { step: 'face', candidate, registrations: [], problems: [], canSetPassword: false }

function mountScreen(view: Record<string, unknown> = onPassword) {
  const journey = ref<Record<string, unknown> | null>(view)
  const run = vi.fn(async (action: () => Promise<unknown>) => {
    journey.value = (await action()) as Record<string, unknown>
    return true
  })
  const w = mount(PasswordScreen, { global: { plugins: [makeI18n()], provide: { journey, run } } })
  return { w, journey, run }
}

async function fill(w: ReturnType<typeof mount>, pw: string, again: string) {
  await w.get('[data-testid=pw-new]').setValue(pw)
  await w.get('[data-testid=pw-repeat]').setValue(again)
  await w.get('[data-testid=pw-answer]').setValue('4821')
}

describe('PasswordScreen', () => {
  beforeEach(() => {
    vi.mocked(kiosk.AccountCaptcha).mockReset()
    vi.mocked(kiosk.SetPassword).mockReset()
    vi.mocked(kiosk.SkipPassword).mockReset()
    vi.mocked(kiosk.Journey).mockReset()
    let n = 0
    vi.mocked(kiosk.AccountCaptcha).mockImplementation(async () => ({ id: `c${++n}`, image: 'data:image/png;base64,' }) as never)
  })

  it('sets the password with the captcha and moves on to where Go says', async () => {
    vi.mocked(kiosk.SetPassword).mockResolvedValue(atFace as never)
    const { w, journey } = mountScreen()
    await flushPromises()
    expect(w.get('[data-testid=pw-who]').text()).toContain('110***********002X')
    await fill(w, 'Kaoshi#Lotus58', 'Kaoshi#Lotus58')
    await w.get('[data-testid=password-form]').trigger('submit')
    await flushPromises()
    expect(kiosk.SetPassword).toHaveBeenCalledWith('Kaoshi#Lotus58', 'c1', '4821')
    expect(journey.value?.step).toBe('face')
  })

  it('refuses two different passwords without asking Go', async () => {
    const { w } = mountScreen()
    await flushPromises()
    await fill(w, 'Kaoshi#Lotus58', 'Kaoshi#Lotus59')
    await w.get('[data-testid=password-form]').trigger('submit')
    await flushPromises()
    expect(kiosk.SetPassword).not.toHaveBeenCalled()
    expect(w.get('[data-testid=pw-error]').text()).toBe('两次输入的密码不一致')
  })

  it('shows a refusal in words and fetches a new captcha for the next try', async () => {
    vi.mocked(kiosk.SetPassword).mockRejectedValue({ code: 'password_weak' })
    const { w, journey } = mountScreen()
    await flushPromises()
    await fill(w, 'aaaaaaa1', 'aaaaaaa1')
    await w.get('[data-testid=password-form]').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid=pw-error]').text()).toContain('密码太容易被猜到')
    expect(kiosk.AccountCaptcha).toHaveBeenCalledTimes(2)
    expect((w.get('[data-testid=pw-answer]').element as HTMLInputElement).value).toBe('')
    expect(journey.value?.step).toBe('password')
  })

  it('drops the form when the central no longer takes the ticket, leaving only continue', async () => {
    vi.mocked(kiosk.SetPassword).mockRejectedValue({ code: 'password_ticket_expired' })
    vi.mocked(kiosk.Journey).mockResolvedValue({ ...onPassword, canSetPassword: false } as never)
    const { w } = mountScreen()
    await flushPromises()
    await fill(w, 'Kaoshi#Lotus58', 'Kaoshi#Lotus58')
    await w.get('[data-testid=password-form]').trigger('submit')
    await flushPromises()
    expect(w.find('[data-testid=password-form]').exists()).toBe(false)
    expect(w.get('[data-testid=pw-error]').text()).toContain('设置密码的时限已过')
    expect(w.get('[data-testid=password-skip]').text()).toBe('继续')
  })

  it('can be skipped straight to the next step', async () => {
    vi.mocked(kiosk.SkipPassword).mockResolvedValue(atFace as never)
    const { w, journey, run } = mountScreen()
    await flushPromises()
    expect(w.get('[data-testid=password-skip]').text()).toBe('跳过，继续')
    await w.get('[data-testid=password-skip]').trigger('click')
    await flushPromises()
    expect(run).toHaveBeenCalled()
    expect(kiosk.SkipPassword).toHaveBeenCalled()
    expect(kiosk.SetPassword).not.toHaveBeenCalled()
    expect(journey.value?.step).toBe('face')
  })
})

describe('PasswordScreen on a touch-only kiosk', () => {
  it('is filled in with the on-screen keyboards alone: letters and digits for the password, the keypad for the captcha', async () => {
    const { default: TextKeyboard } = await import('../../components/TextKeyboard.vue')
    const { default: Keypad } = await import('../../components/Keypad.vue')
    vi.mocked(kiosk.AccountCaptcha).mockResolvedValue({ id: 'c1', image: 'data:image/png;base64,' } as never)
    vi.mocked(kiosk.SetPassword).mockResolvedValue(atFace as never)
    const journey = ref<Record<string, unknown> | null>(onPassword)
    const run = vi.fn()
    const w = mount(
      { components: { PasswordScreen, TextKeyboard, Keypad }, template: '<div><PasswordScreen /><TextKeyboard /><Keypad /></div>' },
      { attachTo: document.body, global: { plugins: [makeI18n()], provide: { journey, run } } },
    )
    await flushPromises()
    const typeText = async (field: string, keys: string[]) => {
      ;(w.get(`[data-testid=${field}]`).element as HTMLInputElement).focus()
      await w.vm.$nextTick()
      for (const k of keys) {
        await w.get(k === '⇧' ? '[data-testid=text-keyboard] [data-key=shift]' : `[data-testid=text-keyboard] [data-letter="${k}"]`).trigger('click')
      }
    }
    const word = ['⇧', 'K', 'a', 'o', 's', 'h', 'i', '#', '⇧', 'L', 'o', 't', 'u', 's', '5', '8']
    await typeText('pw-new', word)
    await typeText('pw-repeat', word)
    ;(w.get('[data-testid=pw-answer]').element as HTMLInputElement).focus()
    await w.vm.$nextTick()
    expect(w.find('[data-testid=text-keyboard]').exists()).toBe(false)
    for (const k of '4821') await w.get(`[data-testid=keypad] [data-key="${k}"]`).trigger('click')
    await w.get('[data-testid=pw-set]').trigger('click') // submits the form
    await flushPromises()
    expect(kiosk.SetPassword).toHaveBeenCalledWith('Kaoshi#Lotus58', 'c1', '4821')
    expect(journey.value?.step).toBe('face')
    w.unmount()
  })
})
