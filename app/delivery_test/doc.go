// Package delivery holds only tests: the kiosk's real store (app/store)
// delivering to the reference central (sync/central) through the sync client
// (sync/kiosk) over 127.0.0.1 with injected network faults, real bbolt on
// both sides.
package delivery
