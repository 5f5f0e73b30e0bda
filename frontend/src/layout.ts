// The page checks its own layout: a touch-only kiosk runs in landscape
// (1920×1080), portrait (1080×1920) and smaller screens, and a button off
// the screen, cut by its scrolling container or under another element is a
// tap that misses. Whenever what is shown changes, the page measures the
// elements a person taps or reads and sends Go a report (ReportLayout):
// Go logs the problems, and the window smoke test reads the report to find
// what to tap and to check every screen in every orientation.

/** A problem found (off_screen, covered, overlap) and its elements. */
export interface LayoutProblem {
  code: string
  ids: string[]
}

/** One measured element (LayoutElement in Go). */
export interface LayoutElement extends Box {
  id: string
  tag: string
  text: string
  data: Record<string, string>
}

/** What the page sends Go (LayoutReport). */
export interface LayoutReport {
  screen: string
  lang: string
  width: number
  height: number
  elements: LayoutElement[]
  problems: LayoutProblem[]
}

/** A box in viewport pixels. */
export interface Box {
  x: number
  y: number
  w: number
  h: number
}

/** What is measured of one tappable element. */
export interface Tappable {
  id: string
  el: Element
  box: Box
  /** the part of the viewport its scrolling ancestors leave visible */
  visible: Box
}

/** The elements a person taps. */
const TAPPABLE = 'button, input, select, textarea, a[href]'
/** The docked on-screen keyboards: what they cover while open is not a
 * problem (the candidate closes them with "done"). */
const KEYBOARDS = '.keypad, .name-keyboard, .text-keyboard'

function intersect(a: Box, b: Box): Box {
  const x = Math.max(a.x, b.x)
  const y = Math.max(a.y, b.y)
  const w = Math.min(a.x + a.w, b.x + b.w) - x
  const h = Math.min(a.y + a.h, b.y + b.h) - y
  return { x, y, w: Math.max(0, w), h: Math.max(0, h) }
}

function inside(a: Box, b: Box): boolean {
  const slack = 1 // sub-pixel rounding
  return a.x >= b.x - slack && a.y >= b.y - slack && a.x + a.w <= b.x + b.w + slack && a.y + a.h <= b.y + b.h + slack
}

/** layoutProblems finds what a person could not tap: an element not wholly
 * inside the visible part of the screen (off_screen), one whose centre is
 * under another element (covered), two that overlap (overlap), and the
 * focused field hidden under a docked keyboard (under_keyboard). hit is
 * document.elementFromPoint. */
export function layoutProblems(
  items: Tappable[],
  hit: (x: number, y: number) => Element | null,
  focused: Element | null = null,
): LayoutProblem[] {
  const out: LayoutProblem[] = []
  for (const it of items) {
    if (it.el === focused) {
      // The field being typed in must show above a docked keyboard.
      const top = hit(it.box.x + it.box.w / 2, it.box.y + it.box.h / 2)
      if (top?.closest(KEYBOARDS)) out.push({ code: 'under_keyboard', ids: [it.id] })
    }
    if (!inside(it.box, it.visible)) {
      out.push({ code: 'off_screen', ids: [it.id] })
      continue
    }
    const top = hit(it.box.x + it.box.w / 2, it.box.y + it.box.h / 2)
    if (top && top !== it.el && !it.el.contains(top) && !top.contains(it.el) && !top.closest(KEYBOARDS)) {
      const by = top.closest('[data-testid]')?.getAttribute('data-testid') ?? top.tagName.toLowerCase()
      out.push({ code: 'covered', ids: [it.id, by] })
    }
  }
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i]
      const b = items[j]
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue
      if (!a.el.closest(KEYBOARDS) !== !b.el.closest(KEYBOARDS)) continue // a docked keyboard covers the page while open
      const o = intersect(a.box, b.box)
      if (o.w > 2 && o.h > 2) out.push({ code: 'overlap', ids: [a.id, b.id] })
    }
  }
  return out
}

function boxOf(el: Element): Box {
  const r = el.getBoundingClientRect()
  return { x: Math.round(r.left), y: Math.round(r.top), w: Math.round(r.width), h: Math.round(r.height) }
}

function shown(el: Element): boolean {
  const r = el.getBoundingClientRect()
  if (r.width === 0 || r.height === 0) return false
  const s = getComputedStyle(el)
  return s.visibility !== 'hidden' && s.display !== 'none'
}

/** visibleBox is the viewport cut by the element's clipping ancestors. */
function visibleBox(el: Element): Box {
  let v: Box = { x: 0, y: 0, w: window.innerWidth, h: window.innerHeight }
  for (let p = el.parentElement; p; p = p.parentElement) {
    const s = getComputedStyle(p)
    if (s.position === 'fixed') break // fixed boxes are placed in the viewport
    if (/(auto|scroll|hidden|clip)/.test(s.overflowX + s.overflowY)) v = intersect(v, boxOf(p))
  }
  return v
}

function idOf(el: Element, n: number): string {
  return el.getAttribute('data-testid') ?? el.getAttribute('data-key') ?? el.getAttribute('data-letter') ?? `${el.tagName.toLowerCase()}#${n}`
}

function textOf(el: Element): string {
  if (el instanceof HTMLInputElement) return el.placeholder
  return (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 80)
}

/** measure reports the screen as it is now. Inside an open dialog only the
 * dialog counts: what it covers is covered on purpose. */
export function measure(screen: string, lang: string): LayoutReport {
  const scope: ParentNode = document.querySelector('[role=dialog]') ?? document
  const els = new Set<Element>()
  scope.querySelectorAll(`[data-testid], h1, h2, ${TAPPABLE}`).forEach((el) => shown(el) && els.add(el))
  document.querySelectorAll(KEYBOARDS).forEach((k) => {
    if (shown(k)) els.add(k)
    k.querySelectorAll(TAPPABLE).forEach((el) => shown(el) && els.add(el))
  })
  const elements: LayoutElement[] = []
  const tappable: Tappable[] = []
  let n = 0
  for (const el of els) {
    const id = idOf(el, n++)
    const box = boxOf(el)
    const data: Record<string, string> = {}
    for (const [k, v] of Object.entries((el as HTMLElement).dataset ?? {})) if (v !== undefined && k !== 'testid') data[k] = v
    // How much a field holds, never what (it may be a password).
    if (el instanceof HTMLInputElement) data.chars = String(el.value.length)
    if ((el as HTMLButtonElement).disabled) data.disabled = 'true'
    elements.push({ id, tag: el.tagName.toLowerCase(), text: textOf(el), ...box, data })
    if (el.matches(TAPPABLE) && !(el as HTMLButtonElement).disabled) tappable.push({ id, el, box, visible: visibleBox(el) })
  }
  const problems = layoutProblems(tappable, (x, y) => document.elementFromPoint(x, y), document.activeElement)
  return { screen, lang, width: window.innerWidth, height: window.innerHeight, elements, problems }
}

/** watchLayout measures after every change of what is shown (at most about
 * three times a second) and sends each report that differs from the last.
 * It returns the function that stops it. */
export function watchLayout(
  root: Element,
  screen: () => string,
  lang: () => string,
  send: (r: LayoutReport) => Promise<void>,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  let last = ''
  const run = () => {
    timer = undefined
    requestAnimationFrame(() => {
      const r = measure(screen(), lang())
      const key = JSON.stringify(r)
      if (key === last) return
      last = key
      Promise.resolve()
        .then(() => send(r)) // a binding missing (a browser without Go) throws at once
        .catch(() => {})
    })
  }
  const schedule = () => {
    if (!timer) timer = setTimeout(run, 300)
  }
  const obs = new MutationObserver(schedule)
  obs.observe(root, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ['class', 'style', 'disabled', 'data-state', 'data-phase', 'data-url'],
  })
  window.addEventListener('resize', schedule)
  document.addEventListener('input', schedule, true) // a field's value is no attribute
  document.fonts?.addEventListener?.('loadingdone', schedule)
  schedule()
  return () => {
    obs.disconnect()
    window.removeEventListener('resize', schedule)
    document.removeEventListener('input', schedule, true)
    document.fonts?.removeEventListener?.('loadingdone', schedule)
    if (timer) clearTimeout(timer)
  }
}
