import { ref, type Ref } from 'vue'
import { AccountCaptcha, messageOf, type Translate, type app } from './api/kiosk'

/** useCaptcha is the central's one-try captcha of the account screens:
 * the current image, the answer typed, and newCaptcha, which fetches the
 * next one (after every try) and puts a failure into error. */
export function useCaptcha(error: Ref<string>, t: Translate) {
  const captcha = ref<app.CaptchaView | null>(null)
  const answer = ref('')
  async function newCaptcha() {
    answer.value = ''
    try {
      captcha.value = await AccountCaptcha()
    } catch (e) {
      error.value = messageOf(e, t)
    }
  }
  return { captcha, answer, newCaptcha }
}
