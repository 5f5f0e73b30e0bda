package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Status states, worst last.
const (
	StateOK    = "ok"
	StateWarn  = "warn"
	StateError = "error"
)

// StatusItem is one entry of the device status strip. Code selects the
// localized label in the UI (frontend/src/i18n: status.<key>.<code>);
// Detail is technical data shown as is (a path, a version, a size).
type StatusItem struct {
	Key    string `json:"key"`   // camera, models, storage, central, version
	State  string `json:"state"` // ok, warn, error
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// StatusReport is what the status strip shows.
type StatusReport struct {
	Items   []StatusItem `json:"items"`
	Version string       `json:"version"`
	At      time.Time    `json:"at"`
}

// MinFreeBytes is the free space below which storage reports a warning.
const MinFreeBytes = 1 << 30

// checkCamera reports what the configured camera source is. It is replaced
// by the live capture state once a capture source is running.
func checkCamera(device string) StatusItem {
	it := StatusItem{Key: "camera"}
	switch {
	case strings.HasPrefix(device, "replay:"):
		path := strings.TrimPrefix(device, "replay:")
		if _, err := os.Stat(path); err != nil {
			it.State, it.Code, it.Detail = StateError, "replay_missing", path
			return it
		}
		it.State, it.Code, it.Detail = StateOK, "replay", filepath.Base(path)
	case device == "auto":
		devs, _ := filepath.Glob("/dev/video*")
		if len(devs) == 0 {
			it.State, it.Code = StateError, "no_device"
			return it
		}
		it.State, it.Code, it.Detail = StateOK, "found", devs[0]
	default:
		if _, err := os.Stat(device); err != nil {
			it.State, it.Code, it.Detail = StateError, "no_device", device
			return it
		}
		it.State, it.Code, it.Detail = StateOK, "found", device
	}
	return it
}

// checkModels turns the start-up verification of the model files into a
// status entry.
func checkModels(files []ModelFile, err error) StatusItem {
	it := StatusItem{Key: "models"}
	if err != nil {
		it.State, it.Code, it.Detail = StateError, "missing", err.Error()
		return it
	}
	var total int64
	for _, f := range files {
		total += f.Bytes
	}
	it.State, it.Code, it.Detail = StateOK, "ready", fmt.Sprintf("%d files, %.0f MB", len(files), float64(total)/1e6)
	return it
}

// checkStorage reports whether the data directory is writable and has room.
func checkStorage(dir string) StatusItem {
	it := StatusItem{Key: "storage"}
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		it.State, it.Code, it.Detail = StateError, "not_writable", dir
		return it
	}
	probe.Close()
	os.Remove(probe.Name())
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		it.State, it.Code, it.Detail = StateError, "not_writable", dir
		return it
	}
	free := st.Bavail * uint64(st.Bsize)
	it.Detail = fmt.Sprintf("%.1f GB free", float64(free)/1e9)
	if free < MinFreeBytes {
		it.State, it.Code = StateWarn, "low_space"
		return it
	}
	it.State, it.Code = StateOK, "ok"
	return it
}

// checkCentral asks the central's health endpoint. A kiosk works offline,
// so an unreachable central is a warning, not an error.
func checkCentral(ctx context.Context, client *http.Client, base string) StatusItem {
	it := StatusItem{Key: "central", Detail: base}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/healthz", nil)
	if err != nil {
		it.State, it.Code = StateError, "bad_url"
		return it
	}
	resp, err := client.Do(req)
	if err != nil {
		it.State, it.Code = StateWarn, "offline"
		return it
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		it.State, it.Code = StateWarn, "unhealthy"
		it.Detail = fmt.Sprintf("%s (HTTP %d)", base, resp.StatusCode)
		return it
	}
	it.State, it.Code = StateOK, "online"
	return it
}
