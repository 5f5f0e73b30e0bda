package kiosk_test

import (
	"testing"

	"examkiosk/sync/central/store/storetest"
)

// The two-node tests (failover_test.go) share one throwaway PostgreSQL
// cluster, a fresh database each; the others use bbolt unless
// $EXAMKIOSK_CENTRAL_STORE says postgres.
func TestMain(m *testing.M) { storetest.Main(m) }
