import { inject, type Ref } from 'vue'
import type { app } from './api/kiosk'

/** The journey state and the runner App.vue provides to every screen. */
export function useJourney() {
  const journey = inject<Ref<app.JourneyView | null>>('journey')
  const run = inject<(action: () => Promise<app.JourneyView>) => Promise<boolean>>('run')
  if (!journey || !run) throw new Error('useJourney outside App')
  return { journey, run }
}
