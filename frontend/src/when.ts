// One way to write a time on every screen, in the language shown: the
// words (weekday and month names, the pattern) are vue-i18n's (date.*);
// the clock is 24-hour in both languages. The WebView's own locale data
// is not used: it wrote "12:00 AM" in Chinese too.
import type { Translate } from './api/kiosk'

const pad = (n: number) => String(n).padStart(2, '0')

/** formatWhen writes v (a Go time) as date and time, or '' when it is none
 * (unset Go times are year 1). */
export function formatWhen(v: unknown, t: Translate, withWeekday = true): string {
  const d = new Date(String(v))
  if (Number.isNaN(d.getTime()) || d.getFullYear() < 2000) return ''
  const named = {
    y: d.getFullYear(),
    m: d.getMonth() + 1,
    mon: t(`date.month.${d.getMonth() + 1}`),
    d: d.getDate(),
    w: withWeekday ? t(`date.weekday.${d.getDay()}`) : '',
    hh: pad(d.getHours()),
    mm: pad(d.getMinutes()),
  }
  return t('date.full', named).replace(/\s+/g, ' ').replace(/^ | $/g, '').replace(' ,', ',')
}
