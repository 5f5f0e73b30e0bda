package central

import "testing"

// The concurrency caps' table keeps only what is in flight: a kiosk's
// entry is gone when its last request ends (a central that serves
// thousands of kiosks does not keep one entry each), and slots freed are
// taken again up to the same caps.
func TestSlotsKeepOnlyWhatIsInFlight(t *testing.T) {
	l := newSlots(3, 2)
	for round := range 2 {
		for _, dev := range []string{"", "", "", "k1", "k1", "k2"} {
			if !l.acquire(dev) {
				t.Fatalf("round %d: %q refused below its cap", round, dev)
			}
		}
		if l.acquire("") || l.acquire("k1") {
			t.Fatalf("round %d: a slot past the cap", round)
		}
		if !l.acquire("k2") {
			t.Fatalf("round %d: k2's second slot refused", round)
		}
		for _, dev := range []string{"", "", "", "k1", "k1", "k2", "k2"} {
			l.release(dev)
		}
		if l.total != 0 || len(l.perDevice) != 0 {
			t.Fatalf("round %d: after every request ended: %d in flight, table %v", round, l.total, l.perDevice)
		}
	}
}
