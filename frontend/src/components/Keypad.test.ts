import { describe, it, expect } from 'vitest'
import { mount } from '@vue/test-utils'
import { defineComponent, ref } from 'vue'
import { makeI18n } from '../i18n'
import Keypad from './Keypad.vue'

// A screen with an ID-number field and a name field, and the keypad.
const Screen = defineComponent({
  components: { Keypad },
  setup: () => ({ id: ref(''), name: ref('') }),
  template: `<div><input v-model="id" inputmode="numeric" data-keypad="id" maxlength="18" data-testid="id" />
    <input v-model="name" data-testid="name" /><Keypad /></div>`,
})

describe('Keypad', () => {
  it('types digits and X into the focused ID-number field, and hides for other fields', async () => {
    const w = mount(Screen, { attachTo: document.body, global: { plugins: [makeI18n()] } })
    expect(w.find('[data-testid=keypad]').exists()).toBe(false)
    ;(w.get('[data-testid=id]').element as HTMLInputElement).focus()
    await w.vm.$nextTick()
    for (const k of '11010519491231002'.split('')) await w.get(`[data-key="${k}"]`).trigger('click')
    await w.get('[data-key=X]').trigger('click')
    await w.get('[data-key="5"]').trigger('click') // past maxlength: ignored
    expect((w.vm as unknown as { id: string }).id).toBe('11010519491231002X')
    await w.get('[data-key=back]').trigger('click')
    expect((w.vm as unknown as { id: string }).id).toBe('11010519491231002')
    ;(w.get('[data-testid=name]').element as HTMLInputElement).focus()
    await w.vm.$nextTick()
    expect(w.find('[data-testid=keypad]').exists()).toBe(false)
    w.unmount()
  })
})
