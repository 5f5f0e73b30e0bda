package kiosk

import (
	"context"
	"net"
	"testing"
	"time"
)

func TestAnyUsable(t *testing.T) {
	lo := net.Interface{Index: 1, Name: "lo", Flags: net.FlagUp | net.FlagLoopback}
	eth := net.Interface{Index: 2, Name: "eth0", Flags: net.FlagUp}
	down := net.Interface{Index: 3, Name: "wlan0"}
	addr := func(s string) net.Addr { ip, n, _ := net.ParseCIDR(s); n.IP = ip; return n }
	tests := []struct {
		name  string
		ifs   []net.Interface
		addrs map[string][]net.Addr
		want  bool
	}{
		{"loopback only", []net.Interface{lo}, map[string][]net.Addr{"lo": {addr("127.0.0.1/8")}}, false},
		{"ethernet with lease", []net.Interface{lo, eth}, map[string][]net.Addr{"eth0": {addr("192.168.1.20/24")}}, true},
		{"ethernet link-local only", []net.Interface{eth}, map[string][]net.Addr{"eth0": {addr("169.254.3.4/16"), addr("fe80::1/64")}}, false},
		{"interface down", []net.Interface{down}, map[string][]net.Addr{"wlan0": {addr("10.0.0.5/8")}}, false},
		{"ipv6 global", []net.Interface{eth}, map[string][]net.Addr{"eth0": {addr("2001:db8::5/64")}}, true},
	}
	for _, tt := range tests {
		got := anyUsable(tt.ifs, func(i net.Interface) ([]net.Addr, error) { return tt.addrs[i.Name], nil })
		if got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestWatchInterfacesReportsOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	calls := 0
	WatchInterfaces(ctx, 10*time.Millisecond, func(bool) { calls++ })
	if calls != 1 { // the interfaces do not change during the test
		t.Fatalf("onChange called %d times, want 1", calls)
	}
}

func TestDiskFree(t *testing.T) {
	free, err := DiskFree(t.TempDir())
	if err != nil || free == 0 {
		t.Fatalf("DiskFree = %d, %v", free, err)
	}
	if _, err := DiskFree("/nonexistent/path"); err == nil {
		t.Fatal("no error for a missing path")
	}
}
