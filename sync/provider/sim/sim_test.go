package sim_test

import (
	"os"
	"path/filepath"
	"testing"

	"examkiosk/sync/provider"
	"examkiosk/sync/provider/sim"
)

func TestLoadOrCreateKeepsTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "alipay.pem")
	a, err := sim.LoadOrCreate(path, "demo-alipay")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	b, err := sim.LoadOrCreate(path, "demo-alipay")
	if err != nil || !a.PublicKey().Equal(b.PublicKey()) {
		t.Fatalf("reloaded key differs: %v", err)
	}
	params, err := b.Assertion(provider.MethodConfirm, "tok", "张三", "11010519491231002X")
	if err != nil {
		t.Fatal(err)
	}
	if err := provider.Verify(a.PublicKey(), params); err != nil {
		t.Fatalf("assertion signed by the reloaded key: %v", err)
	}
	if got, err := provider.ParseAssertion(params); err != nil || got.Name != "张三" || got.QRToken != "tok" {
		t.Fatalf("ParseAssertion = %+v, %v", got, err)
	}
}
