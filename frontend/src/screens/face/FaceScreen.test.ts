import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { ref } from 'vue'
import { makeI18n } from '../../i18n'
import FaceScreen from './FaceScreen.vue'
import * as kiosk from '../../api/kiosk'

vi.mock('../../api/kiosk', () => ({
  StartFaceCheck: vi.fn(),
  CancelFaceCheck: vi.fn(),
  AcceptFace: vi.fn(),
  messageOf: (e: unknown) => String(e),
}))

// The preview's event stream, played by the test.
class FakeEvents {
  static all: FakeEvents[] = []
  listeners: Record<string, ((ev: MessageEvent) => void)[]> = {}
  closed = false
  constructor(public url: string) {
    FakeEvents.all.push(this)
  }
  addEventListener(name: string, f: (ev: MessageEvent) => void) {
    ;(this.listeners[name] ??= []).push(f)
  }
  close() {
    this.closed = true
  }
  send(name: string, data: unknown) {
    for (const f of this.listeners[name] ?? []) f({ data: JSON.stringify(data) } as MessageEvent)
  }
}

function mountScreen() {
  return mount(FaceScreen, {
    global: {
      plugins: [makeI18n()],
      provide: { journey: ref({ step: 'face' }), run: vi.fn(async () => true) },
    },
  })
}

function session(id: number) {
  return { id, streamUrl: `http://127.0.0.1/stream?${id}`, eventsUrl: `http://127.0.0.1/events?${id}`, challenge: ['blink', 'turn_left'], guideBox: { x: 0.2, y: 0.1, w: 0.6, h: 0.8 } }
}

afterEach(() => {
  vi.unstubAllGlobals()
  FakeEvents.all = []
})

describe('FaceScreen', () => {
  it('starts its face step only after the screen it replaces stopped its own', async () => {
    vi.stubGlobal('EventSource', FakeEvents)
    const calls: string[] = []
    let finishCancel = () => {}
    let n = 0
    vi.mocked(kiosk.StartFaceCheck).mockImplementation(async () => {
      calls.push('start')
      return session(++n) as never
    })
    vi.mocked(kiosk.CancelFaceCheck).mockImplementation(
      () =>
        new Promise<void>((resolve) => {
          calls.push('cancel')
          finishCancel = () => {
            calls.push('cancelled')
            resolve()
          }
        }),
    )
    const first = mountScreen()
    await flushPromises()
    first.unmount()
    const second = mountScreen() // shown again at once (a journey event)
    await flushPromises()
    expect(calls).toEqual(['start', 'cancel']) // the second start waits
    finishCancel()
    await flushPromises()
    expect(calls).toEqual(['start', 'cancel', 'cancelled', 'start'])
    second.unmount()
    await flushPromises()
    expect(calls.at(-1)).toBe('cancel')
    finishCancel()
    await flushPromises()
  })

  it('shows only its own session guidance', async () => {
    vi.stubGlobal('EventSource', FakeEvents)
    vi.mocked(kiosk.StartFaceCheck).mockResolvedValue(session(7) as never)
    vi.mocked(kiosk.CancelFaceCheck).mockResolvedValue(undefined as never)
    const w = mountScreen()
    await flushPromises()
    const events = FakeEvents.all.at(-1)!
    const progress = (sessionID: number, phase: string) => ({ seq: 1, data: { session: sessionID, phase, ok: false, problems: [], liveness: { state: 'running' }, result: phase === 'failed' ? { failure: 'face_timeout' } : undefined } })
    events.send('meta', progress(6, 'failed')) // a stopped step's last word
    await flushPromises()
    expect(w.get('[data-testid=face-hint]').attributes('data-phase')).toBe('starting')
    expect(w.find('[data-testid=face-retry]').exists()).toBe(false)
    events.send('meta', progress(7, 'checking'))
    await flushPromises()
    expect(w.get('[data-testid=face-hint]').attributes('data-phase')).toBe('checking')
    w.unmount()
    await flushPromises()
  })
})
