// The events Go sends the screens (app/events.go): state changes arrive
// here instead of being polled.
import { EventsOn } from '../../wailsjs/runtime/runtime'

/** The event names of app/events.go. */
export type KioskEvent = 'journey' | 'status' | 'sync' | 'staff' | 'print'

/** onEvent calls f with every event of that name; it returns the function
 * that stops listening. Outside the Wails window (unit tests) nothing comes. */
export function onEvent<T>(name: KioskEvent, f: (data: T) => void): () => void {
  if (!(window as unknown as { runtime?: unknown }).runtime) return () => {}
  return EventsOn(name, (data: T) => f(data))
}
