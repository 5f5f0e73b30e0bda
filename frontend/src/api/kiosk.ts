// The one door from the UI to Go: the generated Wails bindings of the three
// bound services (frontend/wailsjs, written by `make bindings`) and the
// events Go emits. Components import from here so that unit tests can
// replace this module.
export * from '../../wailsjs/go/app/JourneyService'
export * from '../../wailsjs/go/app/StaffService'
export * from '../../wailsjs/go/app/DeviceService'
export { onEvent, type KioskEvent } from './events'
export type { app, face, wire, registration } from '../../wailsjs/go/models'

/** A bound method's rejection: a form refusal ({problems}) or a message. */
export interface FieldProblem {
  field: string
  zh: string
  en: string
}

/** problemsOf returns the refused fields of a form error, if it is one. */
export function problemsOf(err: unknown): FieldProblem[] {
  if (err && typeof err === 'object' && Array.isArray((err as { problems?: unknown }).problems)) {
    return (err as { problems: FieldProblem[] }).problems
  }
  return []
}

/** messageOf returns a rejection as text for the current language. Go sends
 * its refusals as "中文 / English"; only the language asked for is kept. */
export function messageOf(err: unknown, locale: string): string {
  const ps = problemsOf(err)
  if (ps.length) return ps.map((p) => (locale === 'en' ? p.en : p.zh)).join('\n')
  const s = err instanceof Error ? err.message : String(err)
  const i = s.indexOf(' / ')
  if (i > 0 && /[\u4e00-\u9fff]/.test(s.slice(0, i))) {
    return locale === 'en' ? s.slice(i + 3) : s.slice(0, i)
  }
  return s
}

/** bilingual picks the text of a {zh, en} pair for the locale. */
export function bilingual(t: { zh: string; en: string } | undefined, locale: string): string {
  if (!t) return ''
  return locale === 'en' ? t.en : t.zh
}

/** problemText picks one language of a face problem's "中文 / English" message. */
export function problemText(message: string, locale: string): string {
  return messageOf(message, locale)
}
