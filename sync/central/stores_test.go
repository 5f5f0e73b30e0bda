package central_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// The central's tests run on the store of $EXAMKIOSK_CENTRAL_STORE (bolt
// when unset); those through testbed.EachStore run on both. PostgreSQL
// tests share one throwaway cluster, a fresh database each.
func TestMain(m *testing.M) { storetest.Main(m) }

// Row 8 on PostgreSQL: every value the database holds (a dump of the kv
// table, as a stolen backup would have it) reveals no personal data.
func TestPostgresHoldsNoPlainPersonalData(t *testing.T) {
	cfg := central.DefaultConfig()
	testbed.UseStore(t, &cfg, storetest.Postgres)
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 8)
	r := testbed.Registration(testbed.RegID("pg8"), 1, d.id.DeviceID, testbed.IDNumber(8), photo)
	r.Name, r.Phone = "保密考生乙", "13912345679"
	if res := d.pushRegs(r); res[0].Status != wire.StatusAccepted {
		t.Fatalf("push: %+v", res)
	}
	c.Stop()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT bucket || key || value FROM kv")
	if err != nil {
		t.Fatal(err)
	}
	var dump []byte
	n := 0
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		dump = append(dump, b...)
		n++
	}
	if rows.Err() != nil || n < 5 {
		t.Fatalf("dumped %d rows (%v): the test reads nothing", n, rows.Err())
	}
	for what, s := range map[string][]byte{"name": []byte(r.Name), "ID number": []byte(r.IDNumber), "phone": []byte(r.Phone),
		"photo": photo[len(photo)/2 : len(photo)/2+64]} {
		if bytes.Contains(dump, s) {
			t.Errorf("the database holds the %s in the clear", what)
		}
	}
}
