package delivery_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"examkiosk/app/registration"
	"examkiosk/app/store"
	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
)

// BenchmarkStoreDrain10k drains 10,000 registrations with 40 KB photos
// queued in the kiosk's real store (sealed bbolt) to a central on loopback.
// Filling the store (10,000 fsync'd Submits) takes about a minute and is not
// timed.
//
//	go test -run '^$' -bench StoreDrain10k -benchtime 1x -timeout 30m ./app/delivery_test/
func BenchmarkStoreDrain10k(b *testing.B) {
	const n = 10000
	ctx := context.Background()
	photo := testbed.Photo(400, 560, 60, 5)
	var stats testbed.DrainStats
	for b.Loop() {
		b.StopTimer()
		c := testbed.StartCentral(b, central.DefaultConfig())
		cfg := syncConfig(c.URL)
		cfg.RequestTimeout = 30 * time.Second
		scfg := store.DefaultConfig()
		scfg.Path = filepath.Join(b.TempDir(), "kiosk.db")
		st, err := store.Open(scfg)
		if err != nil {
			b.Fatal(err)
		}
		id, err := c.Enroll(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		client, err := kiosk.New(cfg, id, st, st, kiosk.Options{Logger: testbed.Quiet()})
		if err != nil {
			b.Fatal(err)
		}
		if err := client.Pull(ctx); err != nil {
			b.Fatal(err)
		}
		for i := range n {
			idn, birthYear := idNumber(i)
			r := registration.FromWire(testbed.Registration("", 0, id.DeviceID, idn, photo))
			r.Education, r.GraduationYear = registration.EducationMaster, birthYear+24
			if _, err := st.Submit(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		stats.Drain(b, ctx, client)
		b.StopTimer()
		if got, _ := c.Server().RevisionCount(); got != n {
			b.Fatalf("central stored %d", got)
		}
		st.Close()
		c.Stop()
		b.StartTimer()
	}
	stats.Report(b)
}
