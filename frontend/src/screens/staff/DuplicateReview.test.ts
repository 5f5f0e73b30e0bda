import { describe, it, expect, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { makeI18n } from '../../i18n'
import DuplicateReview from './DuplicateReview.vue'
import * as kiosk from '../../api/kiosk'

vi.mock('../../api/kiosk', async (orig) => ({
  messageOf: ((await orig()) as typeof kiosk).messageOf,
  StaffDuplicates: vi.fn(),
  StaffReviewDuplicate: vi.fn(),
}))

const side = (id: string, name: string, idNumber: string, photo: string) => ({ id, name, idNumber, examId: 'E1', status: 'submitted', photo })

describe('DuplicateReview', () => {
  it('shows both photos side by side and sends the decision', async () => {
    const pending = [
      {
        suspect: side('r-2', '王五', '110101199003074477', 'data:image/jpeg;base64,AAA'),
        matched: side('r-1', '张三', '11010519491231002X', 'data:image/jpeg;base64,BBB'),
        distance: 0.2123,
        threshold: 0.348,
        model: 'mobilefacenet.onnx',
        review: '',
      },
    ]
    vi.mocked(kiosk.StaffDuplicates).mockResolvedValueOnce(pending as never).mockResolvedValueOnce([] as never)
    vi.mocked(kiosk.StaffReviewDuplicate).mockResolvedValue(undefined as never)
    const w = mount(DuplicateReview, { global: { plugins: [makeI18n()] } })
    await flushPromises()
    const imgs = w.findAll('[data-id=r-2] img')
    expect(imgs.map((i) => i.attributes('src'))).toEqual(['data:image/jpeg;base64,AAA', 'data:image/jpeg;base64,BBB'])
    expect(w.text()).toContain('王五')
    expect(w.text()).toContain('张三')
    expect(w.text()).toContain('0.212')
    await w.get('[data-testid=duplicate-confirm]').trigger('click')
    await flushPromises()
    expect(kiosk.StaffReviewDuplicate).toHaveBeenCalledWith('r-2', 'confirmed')
    expect(w.text()).toContain('已标记为同一人')
    expect(w.findAll('article')).toHaveLength(0)
    w.unmount()
  })

  it('says why a decision failed', async () => {
    vi.mocked(kiosk.StaffDuplicates).mockRejectedValue(JSON.stringify({ code: 'pin_first' }))
    const w = mount(DuplicateReview, { global: { plugins: [makeI18n()] } })
    await flushPromises()
    expect(w.get('[role=alert]').text()).toBe('请先输入工作人员密码')
    w.unmount()
  })
})
