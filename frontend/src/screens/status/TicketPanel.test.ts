import { describe, it, expect, vi, beforeEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { makeI18n } from '../../i18n'
import TicketPanel from './TicketPanel.vue'
import * as kiosk from '../../api/kiosk'

vi.mock('../../api/kiosk', async (orig) => {
  const real = await orig<typeof import('../../api/kiosk')>()
  return { ...real, PrintTicket: vi.fn() }
})

const reg = {
  id: 'r1', revision: 1, exam: '2026年度考试', position: '财务会计岗', status: 'paid', payBy: '', submittedAt: '', delivered: true, receiptQr: '',
  ticket: { number: '2026010020017', siteName: '第一中学', siteAddress: '人民路 1 号', room: '第 2 考场', seat: 17,
    startsAt: '2026-12-12T09:00:00+08:00', endsAt: '2026-12-12T11:30:00+08:00' },
}

function mountPanel() {
  return mount(TicketPanel, { props: { reg: reg as never }, global: { plugins: [makeI18n()] } })
}

describe('TicketPanel', () => {
  beforeEach(() => {
    vi.mocked(kiosk.PrintTicket).mockReset() // (returned, the mock would run as the hook's cleanup)
  })

  it('shows the seat and prints with the words of the language shown', async () => {
    vi.mocked(kiosk.PrintTicket).mockResolvedValue({ registrationId: 'r1', state: 'printed' } as never)
    const w = mountPanel()
    expect(w.get('[data-testid=ticket-seat]').text()).toBe('考点：第一中学　考场：第 2 考场　座位号：17')
    await w.get('[data-testid=print-ticket]').trigger('click')
    await flushPromises()
    const [id, labels] = vi.mocked(kiosk.PrintTicket).mock.calls[0]
    expect(id).toBe('r1')
    expect(labels).toMatchObject({ title: '准考证', seat: '座位号', idNumber: '身份证号' })
    expect(labels.notes).toContain('开考 30 分钟后不得入场')
    expect(w.get('[data-testid=ticket-printed]').text()).toContain('已打印')
  })

  it('words a printer refusal', async () => {
    // Wails rejects with the refusal as JSON (app.FormatError).
    vi.mocked(kiosk.PrintTicket).mockRejectedValue(JSON.stringify({ code: 'printer_no_paper' }))
    const w = mountPanel()
    await w.get('[data-testid=print-ticket]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=ticket-error]').text()).toBe('打印机缺纸，请联系现场工作人员加纸后重试')
    expect(w.get('[data-testid=ticket]').attributes('data-state')).toBe('failed')
  })
})
