import { describe, it, expect, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { ref } from 'vue'
import { makeI18n } from '../../i18n'
import FormScreen from './FormScreen.vue'
import * as kiosk from '../../api/kiosk'

vi.mock('../../api/kiosk', async (orig) => {
  const real = await orig<typeof import('../../api/kiosk')>()
  return { ...real, FormOptions: vi.fn(), SaveForm: vi.fn() }
})

const options = {
  exams: [{ id: 'E1', name: '2026年公务员考试', positions: [{ id: 'P1', name: '综合管理岗' }, { id: 'P2', name: '信息技术岗', employer: '市大数据中心' }] }],
  education: ['bachelor'],
  yearFrom: 2020,
  yearTo: 2027,
}

function mountForm() {
  const journey = ref({ step: 'form', candidate: { name: '张三', idMasked: '110***********002X' }, registrations: [], problems: [] })
  const w = mount(FormScreen, {
    global: { plugins: [makeI18n()], provide: { journey, run: vi.fn() } },
  })
  return { w, journey }
}

describe('FormScreen', () => {
  it('offers the open exam, its positions and the graduation years', async () => {
    vi.mocked(kiosk.FormOptions).mockResolvedValue(options as never)
    const { w } = mountForm()
    await flushPromises()
    expect((w.get('[data-testid=f-exam]').element as HTMLSelectElement).value).toBe('E1') // the only exam is chosen
    expect(w.get('[data-testid=f-position]').text()).toContain('信息技术岗（市大数据中心）')
    const years = w.get('[data-testid=f-year]').findAll('option').map((o) => o.text())
    expect(years).toContain('2027')
    expect(years).toContain('2020')
    expect(years).not.toContain('2019')
  })

  it('shows each refusal from Go under its field, in the current language', async () => {
    vi.mocked(kiosk.FormOptions).mockResolvedValue(options as never)
    vi.mocked(kiosk.SaveForm).mockRejectedValue({
      code: 'form',
      problems: [
        { code: 'phone_format', field: 'phone' },
        { code: 'required', field: 'position_id' },
      ],
    })
    const { w } = mountForm()
    await flushPromises()
    await w.get('[data-testid=f-phone]').setValue('12345')
    await w.get('form').trigger('submit')
    await flushPromises()
    const errors = w.findAll('.field-error').map((e) => e.text())
    expect(errors).toEqual(['请填写岗位', '手机号应为 11 位中国大陆手机号码，请核对'])
    expect(vi.mocked(kiosk.SaveForm).mock.calls[0][0]).toMatchObject({ phone: '12345', examId: 'E1' })
  })

  it('moves to the review when Go accepts the form', async () => {
    vi.mocked(kiosk.FormOptions).mockResolvedValue(options as never)
    vi.mocked(kiosk.SaveForm).mockResolvedValue({ step: 'review' } as never)
    const { w, journey } = mountForm()
    await flushPromises()
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(journey.value.step).toBe('review')
  })
})
