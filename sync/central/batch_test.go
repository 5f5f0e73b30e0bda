package central_test

import (
	"sync"
	"testing"

	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// Pushes that share a group commit keep exactly-once: eight copies of one
// batch pushed at once by its kiosk (a retry racing the original) store
// each registration once, every item answered accepted exactly once and
// duplicate otherwise; and two kiosks racing with registrations of the
// same candidates for the same exam get one accepted per candidate.
func TestConcurrentPushesExactlyOnce(t *testing.T) { testbed.EachStore(t, concurrentPushes) }

func concurrentPushes(t *testing.T, cfg central.Config) {
	c := testbed.StartCentral(t, cfg)
	a, b := enrol(t, c), enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 4)
	const n, copies = 20, 8
	regs := func(d rawDevice, from, idOffset int) []wire.Registration {
		var out []wire.Registration
		for i := from; i < from+n; i++ {
			out = append(out, testbed.Registration(testbed.RegNum(i+idOffset), 1, d.id.DeviceID, testbed.IDNumber(i), photo))
		}
		return out
	}
	batch := regs(a, 0, 0) // one document each, sealed afresh by every copy
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := map[string]int{}
	for range copies {
		wg.Go(func() {
			res := a.pushRegs(batch...)
			mu.Lock()
			defer mu.Unlock()
			for _, r := range res {
				switch r.Status {
				case wire.StatusAccepted:
					accepted[r.ID]++
				case wire.StatusDuplicate:
				default:
					t.Errorf("%s: %s %s", r.ID, r.Status, r.Reason)
				}
			}
		})
	}
	wg.Wait()
	if len(accepted) != n {
		t.Fatalf("%d registrations accepted, want %d", len(accepted), n)
	}
	for id, k := range accepted {
		if k != 1 {
			t.Fatalf("%s accepted %d times", id, k)
		}
	}

	// Kiosks a and b each push registrations 100–119 (their own ids, the
	// same candidates: testbed numbers the ID number after the registration).
	results := make([][]wire.Result, 2)
	for i, d := range []rawDevice{a, b} {
		rs := regs(d, 100, 1000*(i+1)) // distinct registration ids, the same ID numbers
		wg.Go(func() { results[i] = d.pushRegs(rs...) })
	}
	wg.Wait()
	for j := range n {
		ok := 0
		for i := range results {
			if len(results[i]) == n && results[i][j].Status == wire.StatusAccepted {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("candidate %d: %d registrations accepted, want 1 (%+v / %+v)", j, ok, results[0][j], results[1][j])
		}
	}
	if got, err := c.Server().RevisionCount(); err != nil || got != 2*n {
		t.Fatalf("%d revisions stored (%v), want %d", got, err, 2*n)
	}
}
