import { describe, it, expect } from 'vitest'
import { mount } from '@vue/test-utils'
import { defineComponent, ref } from 'vue'
import { makeI18n } from '../i18n'
import TextKeyboard from './TextKeyboard.vue'
import Keypad from './Keypad.vue'

// A screen with a password field, a short code field, a digits field, and
// the keyboards as App.vue docks them.
const Screen = defineComponent({
  components: { TextKeyboard, Keypad },
  setup: () => ({ pw: ref(''), code: ref(''), pin: ref('') }),
  template: `<div><input v-model="pw" type="password" data-keyboard="text" data-testid="pw" />
    <input v-model="code" data-keyboard="text" maxlength="4" data-testid="code" />
    <input v-model="pin" inputmode="numeric" data-testid="pin" /><TextKeyboard /><Keypad /></div>`,
})

type Vm = { pw: string; code: string; pin: string }

async function tap(w: ReturnType<typeof mount>, keys: string[]) {
  for (const k of keys) {
    const sel = k.startsWith('@') ? `[data-key=${k.slice(1)}]` : `[data-letter="${k}"]`
    await w.get(`[data-testid=text-keyboard] ${sel}`).trigger('click')
  }
}

describe('TextKeyboard', () => {
  it('types letters, capitals, digits and signs into the focused password field', async () => {
    const w = mount(Screen, { attachTo: document.body, global: { plugins: [makeI18n()] } })
    expect(w.find('[data-testid=text-keyboard]').exists()).toBe(false)
    ;(w.get('[data-testid=pw]').element as HTMLInputElement).focus()
    await w.vm.$nextTick()
    expect(w.find('[data-testid=keypad]').exists()).toBe(false)
    // Shift once: one capital, then small letters again.
    await tap(w, ['@shift', 'K', 'a', 'o', '#', '5', '8'])
    expect((w.vm as unknown as Vm).pw).toBe('Kao#58')
    // Shift twice: caps lock until the third tap.
    await tap(w, ['@shift', '@shift', 'L', 'Z', '@shift', 'x'])
    expect((w.vm as unknown as Vm).pw).toBe('Kao#58LZx')
    expect(w.find('[data-letter=X]').exists()).toBe(false) // small letters shown
    await tap(w, ['@back'])
    expect((w.vm as unknown as Vm).pw).toBe('Kao#58LZ')
    await tap(w, ['@clear'])
    expect((w.vm as unknown as Vm).pw).toBe('')
    w.unmount()
  })

  it('keeps to the field maxlength, gives digit fields to the keypad, and closes with done', async () => {
    const w = mount(Screen, { attachTo: document.body, global: { plugins: [makeI18n()] } })
    ;(w.get('[data-testid=code]').element as HTMLInputElement).focus()
    await w.vm.$nextTick()
    await tap(w, ['a', 'b', '1', '2', '3'])
    expect((w.vm as unknown as Vm).code).toBe('ab12')
    ;(w.get('[data-testid=pin]').element as HTMLInputElement).focus()
    await w.vm.$nextTick()
    expect(w.find('[data-testid=text-keyboard]').exists()).toBe(false)
    expect(w.find('[data-testid=keypad]').exists()).toBe(true)
    ;(w.get('[data-testid=pw]').element as HTMLInputElement).focus()
    await w.vm.$nextTick()
    await tap(w, ['@done'])
    expect(w.find('[data-testid=text-keyboard]').exists()).toBe(false)
    expect(document.activeElement).not.toBe(w.get('[data-testid=pw]').element)
    w.unmount()
  })
})
