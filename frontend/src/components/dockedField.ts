import { nextTick, onMounted, onUnmounted, ref, watch } from 'vue'

// What the kiosk's on-screen keyboards share (a touch-only kiosk has no
// physical keyboard): the field that has the focus, and typing into it as a
// keyboard would (an input event, so v-model follows; maxlength holds).
// Keypad.vue (digits), NameKeyboard.vue (pinyin) and TextKeyboard.vue
// (letters and digits) each dock while a field of their kind is focused.

/** The letter rows of a QWERTY keyboard. */
export const LETTER_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm']

/**
 * useDockedField follows the focus: target is the focused input that
 * accepts says is this keyboard's, and stays while the keyboard's own keys
 * (inside an element matching own) are tapped. left runs when the field
 * loses the keyboard.
 */
export function useDockedField(accepts: (el: HTMLInputElement) => boolean, own: string, left?: () => void) {
  const target = ref<HTMLInputElement | null>(null)

  function focused(e: FocusEvent) {
    const el = e.target
    if (el instanceof HTMLInputElement && accepts(el)) {
      target.value = el
    } else if (!(el instanceof HTMLElement && el.closest(own))) {
      target.value = null
      left?.()
    }
  }

  function edit(change: (v: string) => string) {
    const el = target.value
    if (!el) return
    el.value = change(el.value)
    el.dispatchEvent(new Event('input', { bubbles: true }))
    el.focus()
  }

  /** put types text at the end of the field, up to its maxlength. */
  const put = (text: string) => edit((v) => (target.value!.maxLength < 0 || v.length < target.value!.maxLength ? v + text : v))
  /** back deletes the last character. */
  const back = () => edit((v) => v.slice(0, -1))
  /** clear empties the field. */
  const clear = () => edit(() => '')
  /** done closes the keyboard. */
  function done() {
    target.value?.blur()
    target.value = null
    left?.()
  }

  // While docked, the keyboard covers the bottom of the screen: the page
  // gets room below (class keyboard-open, style.css) and the field scrolls
  // to where the candidate sees what they type.
  watch(target, async (el) => {
    document.body.classList.toggle('keyboard-open', !!el)
    await nextTick()
    const kb = document.querySelector(own)
    if (!el || !kb) return
    const over = el.getBoundingClientRect().bottom + 24 - kb.getBoundingClientRect().top
    if (over > 0) el.closest('.screen, .staff')?.scrollBy?.({ top: over })
  })

  onMounted(() => document.addEventListener('focusin', focused))
  onUnmounted(() => {
    document.removeEventListener('focusin', focused)
    if (target.value) document.body.classList.remove('keyboard-open')
  })
  return { target, put, back, clear, done }
}
