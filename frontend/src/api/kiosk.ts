// The one door from the UI to Go: the generated Wails bindings of the three
// bound services (frontend/wailsjs, written by `make bindings`) and the
// events Go emits. Components import from here so that unit tests can
// replace this module.
export * from '../../wailsjs/go/app/JourneyService'
export * from '../../wailsjs/go/app/StaffService'
export * from '../../wailsjs/go/app/DeviceService'
export { onEvent, type KioskEvent } from './events'
export type { app, face, ticket, wire } from '../../wailsjs/go/models'

/** A bound method's rejection (app.Refusal in Go): a code, the field it
 * concerns and the arguments of its words; the words are the UI's
 * (i18n: errors.<code>; a form's problems: refusal.<code> with field.<field>). */
export interface Refusal {
  code: string
  field?: string
  args?: Record<string, string>
  problems?: Refusal[]
}

/** The translate function of vue-i18n's useI18n(). */
export type Translate = (key: string, named?: Record<string, unknown>) => string

/** refusalOf returns a rejection as a Refusal, or null if it is none. */
export function refusalOf(err: unknown): Refusal | null {
  let v: unknown = err
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v)
    } catch {
      return null
    }
  }
  if (v && typeof v === 'object' && typeof (v as { code?: unknown }).code === 'string') return v as Refusal
  return null
}

/** problemsOf returns the refused fields of a form refusal, if it is one. */
export function problemsOf(err: unknown): Refusal[] {
  return refusalOf(err)?.problems ?? []
}

/** fieldText is the words of one refused field. */
export function fieldText(p: Refusal, t: Translate): string {
  return t(`refusal.${p.code}`, { ...(p.args ?? {}), field: p.field ? t(`field.${p.field}`) : "" })
}

/** messageOf returns the words of a rejection in the current language.
 * Anything that is not a refusal (a bug, a lost connection to Go) reads
 * as errors.internal; its detail is in the kiosk's log. */
export function messageOf(err: unknown, t: Translate): string {
  const r = refusalOf(err)
  if (!r) {
    console.error('kiosk: unexpected error', err)
    return t('errors.internal')
  }
  if (r.problems?.length) return r.problems.map((p) => fieldText(p, t)).join('\n')
  if (r.field) return fieldText(r, t)
  return t(`errors.${r.code}`, r.args ?? {})
}
