// Package failover holds only tests: a registration season's peak against
// real `central serve` processes. Two nodes share one throwaway PostgreSQL
// (internal/pgtest); twenty kiosks, each with its own bbolt store
// (app/store) and sync client (sync/kiosk) listing both nodes, enrolled
// with one-time codes from the admin API, deliver through the fault proxy
// of sync/testbed while a node is SIGKILLed and restarted, or the database
// restarts. Every registration must arrive exactly once.
//
// `make test` runs 1,000 registrations per scenario; `make test-failover`
// runs the full 10,000 (EXAMKIOSK_FAILOVER_FULL=1).
package failover
