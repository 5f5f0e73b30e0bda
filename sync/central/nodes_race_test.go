package central_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// Two nodes on one PostgreSQL race the same registrations: each node copies
// a push's sealed photos in before it takes the write lock, so both copies
// of a revision travel and are stored concurrently, and the duplicate rules
// are decided under the lock. In each round a kiosk's push reaches both
// nodes at once (a retry sent to the next node while the first still
// works): with the same content, every item is accepted on one node and a
// duplicate on the other; with different content (the same revision
// redone), accepted on one and refused on the other. Either way one
// revision is stored per item and no photo is left behind for the loser.
func TestTwoNodesRaceTheSameRegistration(t *testing.T) {
	cfg := central.DefaultConfig()
	testbed.UseStore(t, &cfg, storetest.Postgres)
	a := testbed.StartCentral(t, cfg)
	b := testbed.StartCentral(t, cfg)
	d := enrol(t, a)
	// Pushes of 40 photos keep both transactions open long enough to
	// overlap (without the write lock both nodes accept in most rounds).
	const rounds, n = 6, 40
	photos := [][]byte{testbed.Photo(400, 560, 60, 5), testbed.Photo(400, 560, 60, 6)}
	for r := range rounds {
		sameContent := r%2 == 0
		from := r * n
		// Both pushes carry the same submission time: documents built on
		// either side of a second would differ, and the same content
		// would be refused as a conflict instead of answered as a
		// duplicate.
		at := time.Now().UTC().Truncate(time.Second)
		reqs := []*http.Request{
			signedPushAt(t, d, a.URL, from, n, photos[0], at),
			signedPushAt(t, d, b.URL, from, n, photos[map[bool]int{true: 0, false: 1}[sameContent]], at),
		}
		results := make([]wire.PushResponse, 2)
		var wg sync.WaitGroup
		for i, hr := range reqs {
			wg.Go(func() {
				resp, err := http.DefaultClient.Do(hr)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &results[i]) != nil {
					t.Errorf("push to node %d: %d %s", i, resp.StatusCode, body)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for k := range n {
			x, y := results[0].Results[k], results[1].Results[k]
			accepted := (x.Status == wire.StatusAccepted) != (y.Status == wire.StatusAccepted)
			other := y.Status
			if y.Status == wire.StatusAccepted {
				other = x.Status
			}
			want := wire.StatusDuplicate
			if !sameContent {
				want = wire.StatusRejected
			}
			if !accepted || other != want {
				t.Fatalf("round %d item %d (same content %v): node a %s %q, node b %s %q; want one accepted, the other %s",
					r, k, sameContent, x.Status, x.Reason, y.Status, y.Reason, want)
			}
		}
	}
	if got, err := a.Server().RevisionCount(); err != nil || got != rounds*n {
		t.Fatalf("%d revisions stored (%v), want %d", got, err, rounds*n)
	}
	conn, err := pgx.Connect(context.Background(), cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var blobs, pointed int
	if err := conn.QueryRow(context.Background(),
		"SELECT (SELECT count(*) FROM kv_blob), (SELECT count(*) FROM kv WHERE blob IS NOT NULL)").Scan(&blobs, &pointed); err != nil {
		t.Fatal(err)
	}
	if blobs != rounds*n || pointed != rounds*n {
		t.Fatalf("kv_blob holds %d photos, %d rows point at one; want %d and %d (one per stored revision)", blobs, pointed, rounds*n, rounds*n)
	}
}
