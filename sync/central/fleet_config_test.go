package central_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// TestFleetThresholdsFromConfig: each [central.fleet] threshold, changed,
// changes which alerts a kiosk raises (the same kiosk, the same moment).
func TestFleetThresholdsFromConfig(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	dev := func(version string) wire.Device {
		return wire.Device{ID: "k-" + version, CentreID: "c", CentreName: "考点", EnrolledAt: now.Add(-24 * time.Hour),
			LastHeartbeat: now.Add(-5 * time.Minute), Health: &wire.Health{Camera: "ok", Version: version,
				QueueDepth: 3, OldestQueued: now.Add(-40 * time.Minute), DiskFreeBytes: 3 << 30}}
	}
	alerts := func(p central.FleetPolicy, version string) []string {
		newest := dev("1.3.0") // another kiosk, on the newest version
		newest.ID = "k-newest"
		r := central.BuildFleet([]wire.Device{dev(version), newest}, now, p)
		var k []string
		for _, a := range r.Alerts {
			if a.Device == "k-"+version {
				k = append(k, a.Kind)
			}
		}
		return k
	}
	def := central.DefaultFleetPolicy()
	if got := alerts(def, "1.3.0"); len(got) != 0 {
		t.Fatalf("default policy: a kiosk heard 5 min ago, queue 40 min old, 3 GiB free raises %v", got)
	}
	tests := []struct {
		name    string
		change  func(*central.FleetPolicy)
		version string
		want    []string
	}{
		{"no_heartbeat_after 4m", func(p *central.FleetPolicy) { p.HeartbeatMissing = 4 * time.Minute }, "1.3.0", []string{central.AlertNoHeartbeat}},
		{"no_heartbeat_after 6m", func(p *central.FleetPolicy) { p.HeartbeatMissing = 6 * time.Minute }, "1.3.0", nil},
		{"queue_age 30m", func(p *central.FleetPolicy) { p.QueueAge = 30 * time.Minute }, "1.3.0", []string{central.AlertQueueOld}},
		{"queue_age 45m", func(p *central.FleetPolicy) { p.QueueAge = 45 * time.Minute }, "1.3.0", nil},
		{"low_disk_bytes 4 GiB", func(p *central.FleetPolicy) { p.LowDiskBytes = 4 << 30 }, "1.3.0", []string{central.AlertLowDisk}},
		{"low_disk_bytes 0", func(p *central.FleetPolicy) { p.LowDiskBytes = 0 }, "1.3.0", nil},
		{"newest in the fleet", func(*central.FleetPolicy) {}, "1.2.0", []string{central.AlertVersionBehind}},
		{"current_version pinned", func(p *central.FleetPolicy) { p.CurrentVersion = "1.2.0" }, "1.2.0", nil},
		{"current_version ahead", func(p *central.FleetPolicy) { p.CurrentVersion = "1.4.0" }, "1.3.0", []string{central.AlertVersionBehind}},
	}
	for _, tt := range tests {
		p := def
		tt.change(&p)
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := alerts(p, tt.version); !slices.Equal(got, tt.want) {
			t.Errorf("%s: version %s raises %v, want %v", tt.name, tt.version, got, tt.want)
		}
	}
}

// TestFleetThresholdConfiguredOnTheServer: a central whose config says
// no_heartbeat_after = "3m" alerts on a kiosk silent for 4 minutes, in the
// feed and on the page; one with the default does not.
func TestFleetThresholdConfiguredOnTheServer(t *testing.T) {
	for _, tc := range []struct {
		after time.Duration
		alert bool
	}{{3 * time.Minute, true}, {central.DefaultFleetPolicy().HeartbeatMissing, false}} {
		clk := &fleetClock{now: time.Now().UTC()}
		cfg := central.DefaultConfig()
		cfg.Fleet.HeartbeatMissing = tc.after
		c := testbed.StartCentral(t, cfg, central.WithClock(clk.Now))
		code, _, err := c.Server().NewEnrolmentCode(central.DemoCentreID)
		if err != nil {
			t.Fatal(err)
		}
		k := newSimKiosk(t, c, clk, code, "quiet", 0, wire.Health{Camera: "ok", DiskFreeBytes: 50 << 30, Version: "1.0.0"})
		k.beat(t)
		clk.Add(4 * time.Minute)
		got := kinds(feed(t, c))[k.id.DeviceID]
		if tc.alert != slices.Contains(got, central.AlertNoHeartbeat) {
			t.Errorf("no_heartbeat_after %s, silent 4 min: alerts %v", tc.after, got)
		}
		page := getBody(t, c.URL+"/fleet")
		if tc.alert != strings.Contains(page, `data-kind="no_heartbeat" data-device="`+k.id.DeviceID+`"`) {
			t.Errorf("no_heartbeat_after %s, silent 4 min: the page disagrees with the feed", tc.after)
		}
	}
}

// TestFleetConfigFile: the [central.fleet] keys are read from the central's
// TOML file; a bad value or an unknown key is an error naming the file, the
// key and its line.
func TestFleetConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.toml", `[central]
data_dir = "/var/lib/examkiosk-central"

[central.fleet]
no_heartbeat_after = "15m"
queue_age = "2h"
low_disk_bytes = 2147483648
current_version = "1.4.2"
`)
	cfg := central.DefaultConfig()
	f, err := central.ReadConfigFile(good, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Annotate(cfg.Validate()); err != nil {
		t.Fatal(err)
	}
	want := central.FleetPolicy{HeartbeatMissing: 15 * time.Minute, QueueAge: 2 * time.Hour, LowDiskBytes: 2 << 30, CurrentVersion: "1.4.2"}
	if cfg.Fleet != want {
		t.Errorf("fleet = %+v, want %+v", cfg.Fleet, want)
	}
	if d := central.DefaultConfig().Fleet; d != central.DefaultFleetPolicy() || d.HeartbeatMissing != 10*time.Minute || d.QueueAge != time.Hour || d.LowDiskBytes != 1<<30 || d.CurrentVersion != "" {
		t.Errorf("default [central.fleet] = %+v, want 10m, 1h, 1 GiB, the newest reported", d)
	}

	bad := write("bad.toml", `[central]
qr_ttl = "2h"

[central.fleet]
# thresholds
no_heartbeat_after = "30s"
queue_age = "720h"
low_disk_bytes = 2199023255552
current_version = "latest"
`)
	cfg = central.DefaultConfig()
	f, err = central.ReadConfigFile(bad, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = f.Annotate(cfg.Validate())
	for _, w := range []struct {
		key  string
		line int
	}{{"central.qr_ttl", 2}, {"central.fleet.no_heartbeat_after", 6}, {"central.fleet.queue_age", 7}, {"central.fleet.low_disk_bytes", 8}, {"central.fleet.current_version", 9}} {
		if ce := findConfigError(err, w.key); ce == nil || ce.File != bad || ce.Line != w.line {
			t.Errorf("error for %s: %+v, want file %s line %d (all: %v)", w.key, ce, bad, w.line, err)
		}
	}
	if want := "config " + bad + " line 7: central.fleet.queue_age: 720h0m0s must be between 1m and 168h"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error text %q lacks %q", err, want)
	}
	// Values that are right at the limits pass.
	p := central.FleetPolicy{HeartbeatMissing: 2 * time.Minute, QueueAge: time.Minute, LowDiskBytes: 1 << 40}
	if err := p.Validate(); err != nil {
		t.Errorf("limits refused: %v", err)
	}
	p = central.FleetPolicy{HeartbeatMissing: 24 * time.Hour, QueueAge: 168 * time.Hour, CurrentVersion: "2:1.0~rc1+deb12"[2:]}
	if err := p.Validate(); err != nil {
		t.Errorf("limits refused: %v", err)
	}
	p = central.FleetPolicy{HeartbeatMissing: 24*time.Hour + 1, QueueAge: 59 * time.Second, LowDiskBytes: 1<<40 + 1}
	if err := p.Validate(); err == nil || strings.Count(err.Error(), "central.fleet.") != 3 {
		t.Errorf("just past the limits: %v, want three errors", err)
	}

	typo := write("typo.toml", "[central]\ndata_dir = \"/srv/c\"\n[central.fleet]\nqueue_ages = \"2h\"\n")
	cfg = central.DefaultConfig()
	_, err = central.ReadConfigFile(typo, &cfg)
	if ce := findConfigError(err, "central.fleet.queue_ages"); ce == nil || ce.Line != 4 || ce.File != typo || !strings.Contains(ce.Msg, "unknown key") {
		t.Errorf("misspelt key: %v, want an unknown-key error at %s line 4", err, typo)
	}
	wrongType := write("type.toml", "[central.fleet]\nlow_disk_bytes = \"1 GiB\"\n")
	cfg = central.DefaultConfig()
	_, err = central.ReadConfigFile(wrongType, &cfg)
	if ce := findConfigError(err, "central.fleet.low_disk_bytes"); ce == nil || ce.Line != 2 || ce.File != wrongType {
		t.Errorf("a string for low_disk_bytes: %v, want an error naming the file, the key and line 2", err)
	}
	unknownTable := write("table.toml", "[central]\ndata_dir = \"/srv/c\"\n\n[central.wechat]\napp_id = \"x\"\n")
	cfg = central.DefaultConfig()
	_, err = central.ReadConfigFile(unknownTable, &cfg)
	if ce := findConfigError(err, "central.wechat"); ce == nil || ce.Line != 4 || ce.File != unknownTable {
		t.Errorf("an unknown table: %v, want an error naming the file, the table and line 4", err)
	}
}

func findConfigError(err error, key string) *central.ConfigError {
	var walk func(error) *central.ConfigError
	walk = func(e error) *central.ConfigError {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				if ce := walk(e); ce != nil {
					return ce
				}
			}
			return nil
		}
		var ce *central.ConfigError
		if errors.As(e, &ce) && ce.Key == key {
			return ce
		}
		return nil
	}
	if err == nil {
		return nil
	}
	return walk(err)
}
