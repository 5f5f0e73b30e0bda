import { describe, it, expect } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { defineComponent, ref } from 'vue'
import { makeI18n } from '../i18n'
import NameKeyboard from './NameKeyboard.vue'

const Screen = defineComponent({
  components: { NameKeyboard },
  setup: () => ({ name: ref('') }),
  template: `<div><input v-model="name" data-keyboard="name" maxlength="50" data-testid="name" /><NameKeyboard /></div>`,
})

describe('NameKeyboard', () => {
  it('types a Chinese name by pinyin and the candidate bar', async () => {
    const w = mount(Screen, { attachTo: document.body, global: { plugins: [makeI18n()] } })
    ;(w.get('[data-testid=name]').element as HTMLInputElement).focus()
    await flushPromises()
    const pick = async (py: string, ch: string) => {
      for (const c of py) await w.get(`[data-letter="${c}"]`).trigger('click')
      for (let i = 0; i < 50 && !w.find(`[data-cand="${ch}"]`).exists(); i++) await new Promise((r) => setTimeout(r, 20))
      await w.get(`[data-cand="${ch}"]`).trigger('click')
    }
    await pick('zhang', '张')
    await pick('san', '三')
    expect((w.vm as unknown as { name: string }).name).toBe('张三')
    await w.get('[data-key=back]').trigger('click')
    expect((w.vm as unknown as { name: string }).name).toBe('张')
    w.unmount()
  })
})
