import { describe, it, expect, vi, beforeEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { ref } from 'vue'
import { makeI18n } from '../../i18n'
import FormScreen from './FormScreen.vue'
import * as kiosk from '../../api/kiosk'

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
  education: [{ value: 'bachelor', zh: '本科', en: "Bachelor's degree" }],
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

const p = (field: string, zh: string, en: string) => ({ field, zh, en })

describe('FormScreen shows every refusal', () => {
  beforeEach(() => vi.clearAllMocks())

  it('the major, education, graduation year, work and exam refusals under their own fields', async () => {
    const w = await submitWith({
      problems: [
        p('major', '请填写所学专业', 'enter your major'),
        p('education', '请选择学历', 'choose your education'),
        p('graduation_year', '毕业年份不正确', 'the graduation year is wrong'),
        p('work_experience', '工作经历过长', 'the work experience is too long'),
        p('exam_id', '您已报名本次考试', 'you have already registered for this exam'),
      ],
    })
    expect(fieldError(w, 'f-major')).toBe('请填写所学专业')
    expect(fieldError(w, 'f-education')).toBe('请选择学历')
    expect(fieldError(w, 'f-year')).toBe('毕业年份不正确')
    expect(fieldError(w, 'f-work')).toBe('工作经历过长')
    expect(fieldError(w, 'f-exam')).toBe('您已报名本次考试')
    // Shown once each: not repeated in the general list.
    expect(w.findAll('.problems li')).toHaveLength(0)
  })

  it('refusals of fields not on this screen in the general list', async () => {
    const w = await submitWith({
      problems: [
        p('photo', '证件照不是有效的 JPEG 图片，请重新拍摄', 'the ID photo is not a valid JPEG; please take it again'),
        p('id_number', '身份证号码校验位不正确', 'the ID number check character is wrong'),
        p('', '报名已截止', 'registration has closed'),
        p('major', '请填写所学专业', 'enter your major'),
      ],
    })
    const general = w.findAll('.problems li').map((li) => li.text())
    expect(general).toEqual(['证件照不是有效的 JPEG 图片，请重新拍摄', '身份证号码校验位不正确', '报名已截止'])
    expect(fieldError(w, 'f-major')).toBe('请填写所学专业')
  })

  it('an error that is no field refusal as the alert, in the language shown', async () => {
    const w = await submitWith(new Error('本机存储空间不足，请联系工作人员 / the kiosk is out of disk space; ask the staff'), 'en')
    expect(w.get('[role=alert]').text()).toBe('the kiosk is out of disk space; ask the staff')
    const zh = await submitWith(new Error('本机存储空间不足，请联系工作人员 / the kiosk is out of disk space; ask the staff'))
    expect(zh.get('[role=alert]').text()).toBe('本机存储空间不足，请联系工作人员')
  })

  it('field refusals in English when the screen is in English', async () => {
    const w = await submitWith({ problems: [p('major', '请填写所学专业', 'enter your major'), p('', '报名已截止', 'registration has closed')] }, 'en')
    expect(fieldError(w, 'f-major')).toBe('enter your major')
    expect(w.findAll('.problems li').map((li) => li.text())).toEqual(['registration has closed'])
  })

  it('clears the refusals of the last attempt when the next one is accepted', async () => {
    const w = await submitWith({ problems: [p('major', '请填写所学专业', 'enter your major'), p('', '报名已截止', 'registration has closed')] })
    vi.mocked(kiosk.SaveForm).mockResolvedValue({ step: 'form' } as never)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.findAll('.field-error')).toHaveLength(0)
    expect(w.findAll('.problems li')).toHaveLength(0)
    expect(w.find('[role=alert]').exists()).toBe(false)
  })
})
