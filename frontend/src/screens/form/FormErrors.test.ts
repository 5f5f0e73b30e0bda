import { describe, it, expect, vi, beforeEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { ref } from 'vue'
import { makeI18n } from '../../i18n'
import FormScreen from './FormScreen.vue'
import * as kiosk from '../../api/kiosk'
import { fieldText } from '../../api/kiosk'

// Every refusal Go sends must reach the candidate: under its own field, in
// the list of general problems when it belongs to no field on this screen,
// or as the screen's alert when it is not a field refusal at all. A refusal
// the form does not show leaves the candidate pressing "next" for nothing.

vi.mock('../../api/kiosk', async (orig) => {
  const real = await orig<typeof import('../../api/kiosk')>()
  return { ...real, FormOptions: vi.fn(), SaveForm: vi.fn() }
})

const options = {
  exams: [{ id: 'E1', name: '2026年公务员考试', positions: [{ id: 'P1', name: '综合管理岗' }] }],
  education: ['bachelor'],
  yearFrom: 2020,
  yearTo: 2027,
}

async function submitWith(rejection: unknown, locale: 'zh-CN' | 'en' = 'zh-CN') {
  vi.mocked(kiosk.FormOptions).mockResolvedValue(options as never)
  vi.mocked(kiosk.SaveForm).mockRejectedValue(rejection)
  const journey = ref({ step: 'form', candidate: { name: '张三', idMasked: '110***********002X' }, registrations: [], problems: [] })
  const w = mount(FormScreen, { global: { plugins: [makeI18n(locale)], provide: { journey, run: vi.fn() } } })
  await flushPromises()
  await w.get('form').trigger('submit')
  await flushPromises()
  return w
}

/** fieldError is the refusal shown in the label that holds the input. */
function fieldError(w: Awaited<ReturnType<typeof submitWith>>, testid: string): string {
  const label = w.get(`[data-testid=${testid}]`).element.closest('label')
  return label?.querySelector('.field-error')?.textContent?.trim() ?? ''
}

// A refusal as Go sends it ({code, field, args}); the words are the UI's.
const p = (field: string, code: string, arg?: string) => ({ field, code, args: arg ? { arg } : {} })
/** say is what the candidate must read for refusal r in the locale. */
function say(r: ReturnType<typeof p>, locale: 'zh-CN' | 'en' = 'zh-CN'): string {
  const { t } = makeI18n(locale).global
  return fieldText(r as never, ((k: string, a?: Record<string, unknown>) => t(k, a ?? {})) as never)
}

describe('FormScreen shows every refusal', () => {
  beforeEach(() => vi.clearAllMocks())

  it('the major, education, graduation year, work and exam refusals under their own fields', async () => {
    const rs = {
      major: p('major', 'required'),
      education: p('education', 'unknown_value', 'phd'),
      year: p('graduation_year', 'year_range', '1950-2027'),
      work: p('work_experience', 'too_long', '500'),
      exam: p('exam_id', 'duplicate'),
    }
    const w = await submitWith(JSON.stringify({ code: 'form', problems: Object.values(rs) }))
    expect(fieldError(w, 'f-major')).toBe(say(rs.major))
    expect(fieldError(w, 'f-education')).toBe(say(rs.education))
    expect(fieldError(w, 'f-year')).toBe(say(rs.year))
    expect(fieldError(w, 'f-work')).toBe(say(rs.work))
    expect(fieldError(w, 'f-exam')).toBe(say(rs.exam))
    expect(say(rs.major)).toBe('请填写专业')
    // Shown once each: not repeated in the general list.
    expect(w.findAll('.problems li')).toHaveLength(0)
  })

  it('refusals of fields not on this screen in the general list', async () => {
    const photo = p('photo', 'not_jpeg')
    const id = p('id_number', 'id_check_digit')
    const closed = p('', 'exam_closed', '2026-11-01 – 2026-11-20')
    const major = p('major', 'required')
    const w = await submitWith(JSON.stringify({ code: 'form', problems: [photo, id, closed, major] }))
    const general = w.findAll('.problems li').map((li) => li.text())
    expect(general).toEqual([say(photo), say(id), say(closed)])
    expect(general[0]).toBe('证件照不是有效的 JPEG 图片，请重新拍摄')
    expect(fieldError(w, 'f-major')).toBe(say(major))
  })

  it('an error that is no field refusal as the alert, in the language shown', async () => {
    const w = await submitWith(JSON.stringify({ code: 'save_failed' }), 'en')
    expect(w.get('[role=alert]').text()).toBe('Could not save the application: please ask the centre staff')
    const zh = await submitWith(JSON.stringify({ code: 'save_failed' }))
    expect(zh.get('[role=alert]').text()).toBe(makeI18n('zh-CN').global.t('errors.save_failed'))
  })

  it('field refusals in English when the screen is in English', async () => {
    const major = p('major', 'required')
    const closed = p('', 'no_catalog')
    const w = await submitWith(JSON.stringify({ code: 'form', problems: [major, closed] }), 'en')
    expect(fieldError(w, 'f-major')).toBe(say(major, 'en'))
    expect(fieldError(w, 'f-major')).not.toBe(say(major, 'zh-CN'))
    expect(w.findAll('.problems li').map((li) => li.text())).toEqual([say(closed, 'en')])
  })

  it('clears the refusals of the last attempt when the next one is accepted', async () => {
    const w = await submitWith(JSON.stringify({ code: 'form', problems: [p('major', 'required'), p('', 'no_catalog')] }))
    vi.mocked(kiosk.SaveForm).mockResolvedValue({ step: 'form' } as never)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.findAll('.field-error')).toHaveLength(0)
    expect(w.findAll('.problems li')).toHaveLength(0)
    expect(w.find('[role=alert]').exists()).toBe(false)
  })
})
