package central

import (
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"examkiosk/sync/wire"
)

// The fleet view: every kiosk per test centre with what its last heartbeat
// said (queue depth and oldest item, camera, versions, disk), and the
// alerts a centre's staff and a monitoring system act on. Served as a page
// (/fleet), a JSON feed (/fleet/alerts) and Prometheus text (/metrics), all
// behind the admin guard. It reads the device records heartbeats update
// (Server.Devices); it stores nothing of its own.

// Alert kinds: codes with fields; the page and the monitoring system word them.
const (
	AlertNoHeartbeat        = "no_heartbeat"        // nothing heard for FleetPolicy.HeartbeatMissing
	AlertQueueOld           = "queue_old"           // the oldest undelivered item waits longer than FleetPolicy.QueueAge
	AlertCameraDisconnected = "camera_disconnected" // the camera is not delivering pictures
	AlertLowDisk            = "low_disk"            // less than FleetPolicy.LowDiskBytes free
	AlertVersionBehind      = "version_behind"      // older app than the fleet's current version
)

// FleetPolicy holds the alert thresholds: the [central.fleet] table of the
// central's configuration (Config.Fleet).
type FleetPolicy struct {
	// HeartbeatMissing: no heartbeat for this long (kiosks send one a
	// minute, sync.heartbeat_interval).
	HeartbeatMissing time.Duration `toml:"no_heartbeat_after"`
	// QueueAge: the oldest undelivered item is older than this.
	QueueAge time.Duration `toml:"queue_age"`
	// LowDiskBytes: fewer free bytes than this on the kiosk's data file
	// system; 0 turns the alert off.
	LowDiskBytes uint64 `toml:"low_disk_bytes"`
	// CurrentVersion is the app version kiosks should run; empty: the
	// newest version any active kiosk reports.
	CurrentVersion string `toml:"current_version"`
}

// DefaultFleetPolicy is what the central alerts on: no heartbeat in 10
// minutes, a queue older than an hour, less than 1 GiB free, a version
// older than the newest in the fleet.
func DefaultFleetPolicy() FleetPolicy {
	return FleetPolicy{HeartbeatMissing: 10 * time.Minute, QueueAge: time.Hour, LowDiskBytes: 1 << 30}
}

// Validate reports every threshold out of range, each a *ConfigError
// naming its key (central.fleet.…).
func (p FleetPolicy) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &ConfigError{Key: "central.fleet." + key, Msg: fmt.Sprintf(format, args...)})
	}
	if p.HeartbeatMissing < 2*time.Minute || p.HeartbeatMissing > 24*time.Hour {
		bad("no_heartbeat_after", "%s must be between 2m (kiosks beat once a minute) and 24h", p.HeartbeatMissing)
	}
	if p.QueueAge < time.Minute || p.QueueAge > 7*24*time.Hour {
		bad("queue_age", "%s must be between 1m and 168h", p.QueueAge)
	}
	if p.LowDiskBytes > 1<<40 {
		bad("low_disk_bytes", "%d must be at most 1 TiB (1099511627776); 0 turns the alert off", p.LowDiskBytes)
	}
	if v := p.CurrentVersion; v != "" && !versionRE.MatchString(v) {
		bad("current_version", "%q must be a version such as \"1.4.2\" (digits first; letters, digits and .+~- after), or empty for the newest a kiosk reports", v)
	}
	return errors.Join(errs...)
}

var versionRE = regexp.MustCompile(`^[0-9][0-9A-Za-z.+~-]*$`)

// Alert is one condition of one kiosk that needs staff.
type Alert struct {
	Kind       string    `json:"kind"`
	Device     string    `json:"device"`
	Hostname   string    `json:"hostname,omitempty"`
	CentreID   string    `json:"centre_id"`
	CentreName string    `json:"centre_name"`
	Since      time.Time `json:"since,omitzero"` // when the condition started, where known
	// Value is the measured figure: seconds since the heartbeat or of the
	// queue's age, free bytes; State the camera state; Version the kiosk's
	// and Want the fleet's current version.
	Value   float64 `json:"value,omitempty"`
	State   string  `json:"state,omitempty"`
	Version string  `json:"version,omitempty"`
	Want    string  `json:"want,omitempty"`
}

// FleetKiosk is one kiosk as the fleet view shows it.
type FleetKiosk struct {
	wire.Device
	Alerts []string `json:"alerts"` // kinds
}

// FleetCentre groups the kiosks of one test centre.
type FleetCentre struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Kiosks []FleetKiosk `json:"kiosks"`
	Alerts int          `json:"alerts"`
}

// FleetReport is the fleet at one moment.
type FleetReport struct {
	At             time.Time     `json:"at"`
	CurrentVersion string        `json:"current_version,omitempty"`
	Centres        []FleetCentre `json:"centres"`
	Alerts         []Alert       `json:"alerts"`
}

// BuildFleet groups devices by centre and evaluates the alerts at now.
// Revoked kiosks are listed but raise no alerts.
func BuildFleet(devs []wire.Device, now time.Time, p FleetPolicy) FleetReport {
	r := FleetReport{At: now, CurrentVersion: p.CurrentVersion, Centres: []FleetCentre{}, Alerts: []Alert{}}
	if r.CurrentVersion == "" {
		for _, d := range devs {
			if !d.Revoked && d.Health != nil && d.Health.Version != "" &&
				(r.CurrentVersion == "" || CompareVersions(d.Health.Version, r.CurrentVersion) > 0) {
				r.CurrentVersion = d.Health.Version
			}
		}
	}
	slices.SortFunc(devs, func(a, b wire.Device) int {
		return cmp.Or(cmp.Compare(a.CentreName, b.CentreName), cmp.Compare(a.CentreID, b.CentreID),
			cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.ID, b.ID))
	})
	byCentre := map[string]int{}
	for _, d := range devs {
		i, ok := byCentre[d.CentreID]
		if !ok {
			i = len(r.Centres)
			byCentre[d.CentreID] = i
			r.Centres = append(r.Centres, FleetCentre{ID: d.CentreID, Name: d.CentreName})
		}
		k := FleetKiosk{Device: d, Alerts: []string{}}
		if !d.Revoked {
			for _, a := range kioskAlerts(d, now, p, r.CurrentVersion) {
				k.Alerts = append(k.Alerts, a.Kind)
				r.Alerts = append(r.Alerts, a)
			}
		}
		r.Centres[i].Kiosks = append(r.Centres[i].Kiosks, k)
		r.Centres[i].Alerts += len(k.Alerts)
	}
	return r
}

func kioskAlerts(d wire.Device, now time.Time, p FleetPolicy, current string) []Alert {
	var out []Alert
	add := func(a Alert) {
		a.Device, a.Hostname, a.CentreID, a.CentreName = d.ID, d.Hostname, d.CentreID, d.CentreName
		out = append(out, a)
	}
	last := d.LastHeartbeat
	if last.IsZero() {
		last = d.EnrolledAt // enrolled, never heard from since
	}
	if age := now.Sub(last); age > p.HeartbeatMissing {
		add(Alert{Kind: AlertNoHeartbeat, Since: last, Value: age.Seconds()})
	}
	h := d.Health
	if h == nil {
		return out
	}
	if !h.OldestQueued.IsZero() && h.QueueDepth > 0 {
		if age := now.Sub(h.OldestQueued); age > p.QueueAge {
			add(Alert{Kind: AlertQueueOld, Since: h.OldestQueued, Value: age.Seconds()})
		}
	}
	switch h.Camera {
	case "ok", "starting", "":
	default:
		add(Alert{Kind: AlertCameraDisconnected, State: h.Camera, Since: d.LastHeartbeat})
	}
	if h.DiskFreeBytes > 0 && h.DiskFreeBytes < p.LowDiskBytes {
		add(Alert{Kind: AlertLowDisk, Value: float64(h.DiskFreeBytes)})
	}
	if current != "" && h.Version != "" && CompareVersions(h.Version, current) < 0 {
		add(Alert{Kind: AlertVersionBehind, Version: h.Version, Want: current})
	}
	return out
}

// CompareVersions orders version strings the way Debian and semantic
// versions sort for the common cases: runs of digits compare as numbers,
// everything else character by character ("0.1.0+57.g3d8" < "0.1.0+60.g1a2",
// "1.9" < "1.10"). It returns -1, 0 or +1.
func CompareVersions(a, b string) int {
	a, b = strings.TrimPrefix(a, "v"), strings.TrimPrefix(b, "v")
	for a != "" && b != "" {
		da, db := unicode.IsDigit(rune(a[0])), unicode.IsDigit(rune(b[0]))
		switch {
		case da && db:
			na, ra := splitDigits(a)
			nb, rb := splitDigits(b)
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
			a, b = ra, rb
		default:
			if c := cmp.Compare(a[0], b[0]); c != 0 {
				return c
			}
			a, b = a[1:], b[1:]
		}
	}
	return cmp.Compare(len(a), len(b))
}

// splitDigits returns the leading digits of s without leading zeros, and the rest.
func splitDigits(s string) (string, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n := strings.TrimLeft(s[:i], "0")
	return n, s[i:]
}

// Fleet returns the fleet now under the configured policy ([central.fleet]).
func (s *Server) Fleet() (FleetReport, error) {
	devs, err := s.Devices()
	if err != nil {
		return FleetReport{}, fmt.Errorf("fleet: %w", err)
	}
	return BuildFleet(devs, s.now(), s.cfg.Fleet), nil
}

// fleetRoutes registers the fleet page, its alert feed and /metrics.
func (s *Server) fleetRoutes(mux *http.ServeMux) {
	mux.Handle("GET /fleet", s.admin(s.handleFleetPage))
	mux.Handle("GET /fleet/alerts", s.admin(s.handleFleetAlerts))
	mux.Handle("GET /metrics", s.admin(s.handleMetrics))
}

func (s *Server) fleetOrError(w http.ResponseWriter) (FleetReport, bool) {
	r, err := s.Fleet()
	if err != nil {
		s.log.Error("fleet", "err", err)
		http.Error(w, "fleet: "+err.Error(), http.StatusInternalServerError)
		return r, false
	}
	return r, true
}

// handleFleetAlerts is the JSON feed for a monitoring system: the alerts,
// the current version and the time of evaluation.
func (s *Server) handleFleetAlerts(w http.ResponseWriter, r *http.Request) {
	f, ok := s.fleetOrError(w)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		At             time.Time `json:"at"`
		CurrentVersion string    `json:"current_version,omitempty"`
		Alerts         []Alert   `json:"alerts"`
	}{f.At, f.CurrentVersion, f.Alerts})
}

var fleetPage = template.Must(template.New("fleet").Funcs(template.FuncMap{
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return now.Sub(t).Round(time.Second).String()
	},
	"gib": func(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) },
	"detail": func(a Alert) string {
		switch a.Kind {
		case AlertNoHeartbeat, AlertQueueOld:
			return (time.Duration(a.Value) * time.Second).Round(time.Second).String()
		case AlertLowDisk:
			return fmt.Sprintf("%.2f GiB", a.Value/(1<<30))
		case AlertCameraDisconnected:
			return a.State
		case AlertVersionBehind:
			return a.Version + " < " + a.Want
		}
		return ""
	},
}).Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30"><title>{{.W.T "fleet.title"}}</title>
<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.3em .5em}.alert{color:#b00;font-weight:bold}.ok{color:#2e9d57}.lang{float:right}</style></head><body>
{{.W.Switch}}
<h1>{{.W.T "fleet.title"}}</h1>
<p><a href="/review">{{.W.T "nav.review"}}</a> · <a href="/devices">{{.W.T "nav.devices"}}</a> · <a href="/fleet/alerts">{{.W.T "nav.alerts"}}</a> · <a href="/metrics">metrics</a> · {{.At.Format "2006-01-02 15:04:05"}}{{with .CurrentVersion}} · {{$.W.T "fleet.current"}} {{.}}{{end}}</p>
<h2 id="alerts">{{.W.T "fleet.alerts" (len .Alerts)}}</h2>
{{if .Alerts}}<table><tr><th>{{.W.T "col.alert"}}</th><th>{{.W.T "col.centre"}}</th><th>{{.W.T "col.kiosk"}}</th><th>{{.W.T "col.detail"}}</th></tr>
{{range .Alerts}}<tr class="alert" data-kind="{{.Kind}}" data-device="{{.Device}}"><td>{{$.W.T (printf "alert.%s" .Kind)}}</td><td>{{.CentreName}}</td><td>{{.Device}}{{with .Hostname}} ({{.}}){{end}}</td><td>{{detail .}}</td></tr>
{{end}}</table>{{else}}<p class="ok">{{.W.T "fleet.noAlerts"}}</p>{{end}}
{{$now := .At}}{{range .Centres}}<h2>{{.Name}} <small>{{.ID}}</small></h2>
<table><tr><th>{{$.W.T "col.kiosk"}}</th><th>{{$.W.T "col.heartbeat"}}</th><th>{{$.W.T "col.node"}}</th><th>{{$.W.T "col.queue"}}</th><th>{{$.W.T "col.oldest"}}</th><th>{{$.W.T "col.quarantined"}}</th><th>{{$.W.T "col.camera"}}</th><th>{{$.W.T "col.version"}}</th><th>{{$.W.T "col.model"}}</th><th>{{$.W.T "col.disk"}}</th><th>{{$.W.T "col.alerts"}}</th></tr>
{{range .Kiosks}}<tr><td>{{.ID}}{{with .Hostname}}<br><small>{{.}}</small>{{end}}{{if .Revoked}}<br><small>{{$.W.T "state.revoked"}}</small>{{end}}</td><td>{{ago $now .LastHeartbeat}}</td>
{{with .Health}}<td class="node">{{or .Central "—"}}</td><td>{{.QueueDepth}}</td><td>{{if .OldestQueued.IsZero}}—{{else}}{{ago $now .OldestQueued}}{{end}}</td><td>{{.Quarantined}}</td><td>{{.Camera}}</td><td>{{.Version}}</td><td>{{.Model}}</td><td>{{gib .DiskFreeBytes}}</td>{{else}}<td colspan="8">—</td>{{end}}
<td>{{range .Alerts}}<span class="alert">{{$.W.T (printf "alert.%s" .)}}</span> {{else}}<span class="ok">{{$.W.T "state.ok"}}</span>{{end}}</td></tr>
{{end}}</table>{{end}}
</body></html>`))

func (s *Server) handleFleetPage(w http.ResponseWriter, r *http.Request) {
	f, ok := s.fleetOrError(w)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := fleetPage.Execute(w, struct {
		FleetReport
		W words
	}{f, pageWords(w, r)}); err != nil {
		s.log.Error("fleet page", "err", err)
	}
}

// handleMetrics writes the fleet in the Prometheus text exposition format
// (version 0.0.4). Written here rather than with client_golang: the central
// exports a handful of gauges computed on each scrape from the device
// records, and the format is a few lines; the library would add a registry,
// collectors and a dozen modules for that.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	f, ok := s.fleetOrError(w)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	writeMetrics(w, f)
}

// writeMetrics writes the gauges of the fleet report.
func writeMetrics(w io.Writer, f FleetReport) {
	type sample struct {
		labels []string // name, value pairs
		v      float64
	}
	family := func(name, help string, samples []sample) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
		for _, s := range samples {
			var b strings.Builder
			for i := 0; i+1 < len(s.labels); i += 2 {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%s=\"%s\"", s.labels[i], escapeLabel(s.labels[i+1]))
			}
			fmt.Fprintf(w, "%s{%s} %s\n", name, b.String(), strconv.FormatFloat(s.v, 'g', -1, 64))
		}
	}
	var kiosks, heartbeat, queue, oldest, quarantined, disk, cameraOK, info []sample
	for _, c := range f.Centres {
		kiosks = append(kiosks, sample{[]string{"centre", c.ID}, float64(len(c.Kiosks))})
		for _, k := range c.Kiosks {
			if k.Revoked {
				continue
			}
			l := []string{"centre", c.ID, "device", k.ID}
			if !k.LastHeartbeat.IsZero() {
				heartbeat = append(heartbeat, sample{l, float64(k.LastHeartbeat.Unix())})
			}
			h := k.Health
			if h == nil {
				continue
			}
			queue = append(queue, sample{l, float64(h.QueueDepth)})
			quarantined = append(quarantined, sample{l, float64(h.Quarantined)})
			age := 0.0
			if !h.OldestQueued.IsZero() && h.QueueDepth > 0 {
				age = f.At.Sub(h.OldestQueued).Seconds()
			}
			oldest = append(oldest, sample{l, age})
			disk = append(disk, sample{l, float64(h.DiskFreeBytes)})
			ok := 0.0
			if h.Camera == "ok" {
				ok = 1
			}
			cameraOK = append(cameraOK, sample{l, ok})
			info = append(info, sample{append(slices.Clone(l), "version", h.Version, "model", h.Model), 1})
		}
	}
	var alerts []sample
	for _, a := range f.Alerts {
		alerts = append(alerts, sample{[]string{"centre", a.CentreID, "device", a.Device, "kind", a.Kind}, 1})
	}
	family("examkiosk_fleet_kiosks", "Enrolled kiosks per test centre.", kiosks)
	family("examkiosk_kiosk_last_heartbeat_timestamp_seconds", "Unix time of the kiosk's last heartbeat.", heartbeat)
	family("examkiosk_kiosk_queue_depth", "Registrations waiting on the kiosk for delivery.", queue)
	family("examkiosk_kiosk_queue_oldest_age_seconds", "Age of the oldest undelivered registration (0: none).", oldest)
	family("examkiosk_kiosk_quarantined", "Items the central refused, waiting for staff.", quarantined)
	family("examkiosk_kiosk_disk_free_bytes", "Free bytes on the kiosk's data file system.", disk)
	family("examkiosk_kiosk_camera_ok", "1 when the kiosk's camera delivers pictures.", cameraOK)
	family("examkiosk_kiosk_info", "The kiosk's app version and face model.", info)
	family("examkiosk_fleet_alert", "1 for each active fleet alert (kind: no_heartbeat, queue_old, camera_disconnected, low_disk, version_behind).", alerts)
}

// escapeLabel escapes a label value: backslash, double quote and newline.
func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
