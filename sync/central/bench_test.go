package central_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/seal"
	"examkiosk/sync/signing"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// BenchmarkIngest measures the central's ingest of signed push requests of
// 100 sealed registrations with 40 KB photos over loopback HTTP (signature
// check, nonce record, unsealing, validation, one store transaction per
// batch), on each store. Building the batches is not timed.
//
//	go test -run '^$' -bench Ingest -benchtime 100x ./sync/central/
func BenchmarkIngest(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) { benchIngest(b, kind) })
	}
}

func benchIngest(b *testing.B, kind storetest.Kind) {
	const batch = 100
	cfg := central.DefaultConfig()
	testbed.UseStore(b, &cfg, kind)
	c := testbed.StartCentral(b, cfg)
	d := enrol(b, c)
	photo := testbed.Photo(400, 560, 60, 5)
	b.Logf("photo %d bytes", len(photo))
	var lat []time.Duration
	var busy, cpu time.Duration
	next := 0
	for b.Loop() {
		b.StopTimer()
		var req wire.PushRequest
		for range batch {
			rid := testbed.RegNum(next)
			r := testbed.Registration(rid, 1, d.id.DeviceID, testbed.IDNumber(next), photo)
			next++
			sealed, err := seal.Seal(testbed.Doc(r), d.seal)
			if err != nil {
				b.Fatal(err)
			}
			req.Items = append(req.Items, wire.SealedItem{ID: rid, Revision: 1, Sealed: sealed})
		}
		body, _ := req.MarshalBinary()
		hr, _ := http.NewRequest("POST", c.URL+"/v1/push", bytes.NewReader(body))
		hr.Header.Set("Content-Type", wire.PushContentType)
		signing.Sign(hr, d.id.DeviceID, d.id.PrivateKey, body, time.Now())
		b.StartTimer()
		cpu0 := cpuTime()
		start := time.Now()
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			b.Fatal(err)
		}
		var pr wire.PushResponse
		err = json.NewDecoder(resp.Body).Decode(&pr)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		el := time.Since(start)
		if err != nil || len(pr.Results) != batch || pr.Results[0].Status != wire.StatusAccepted {
			b.Fatalf("push: %v %+v", err, pr.Results[:min(1, len(pr.Results))])
		}
		lat = append(lat, el)
		busy += el
		cpu += cpuTime() - cpu0
	}
	slices.Sort(lat)
	b.ReportMetric(float64(batch*b.N)/busy.Seconds(), "regs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-batch-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-batch-ms")
	// CPU time of the whole process (central and the benchmark's HTTP
	// client) per registration: the capacity of an idle 2-core machine is
	// about 2 s / cpu-ms-per-reg, whatever else shares the CPU now.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(batch*b.N), "cpu-ms/reg")
	b.ReportMetric(0, "ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
