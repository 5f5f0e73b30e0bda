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

	"examkiosk/app/store"
	"examkiosk/device/camera"
	"examkiosk/device/face"
)

// Status states, worst last.
const (
	StateOK    = "ok"
	StateWarn  = "warn"
	StateError = "error"
)

// StatusItem is one entry of the device status strip. Code selects the
// localized label in the UI (frontend/src/i18n: status.<key>.<code>);
// Detail is technical data for staff (a device, a version, a size, the
// camera's underlying error); the words are the UI's.
type StatusItem struct {
	Key    string `json:"key"`   // camera, models, storage, central, version
	State  string `json:"state"` // ok, warn, error
	Code   string `json:"code"`
	Detail string `json:"detail"`
	// Figures are the item's numbers for staff, worded by the UI
	// (status.<key>.figures); a comparable string of name=value pairs.
	Figures string `json:"figures,omitempty"`
	// Source is a code for what the item is when that is not the usual
	// (the camera: follow_replay, the demo's recording that follows the
	// prompts), worded by the UI (status.<key>.source.<source>).
	Source string `json:"source,omitempty"`
}

// StatusReport is what the status strip shows.
type StatusReport struct {
	Items   []StatusItem `json:"items"`
	Version string       `json:"version"`
	At      time.Time    `json:"at"`
}

// SourceCameraFollowReplay is the camera item's Source when the camera is
// the demo's recording that follows the liveness prompts (the UI words it:
// status.camera.source.follow_replay).
const SourceCameraFollowReplay = "follow_replay"

// MinFreeBytes is the free space below which storage reports a warning.
const MinFreeBytes = 1 << 30

// cameraItem reports the capture state the camera itself keeps.
func cameraItem(cam *camera.Camera) StatusItem {
	it := StatusItem{Key: "camera"}
	if cam == nil {
		it.State, it.Code = StateError, string(camera.StateNoDevice)
		return it
	}
	st := cam.Status()
	it.Code = string(st.State)
	switch st.State {
	case camera.StateOK:
		it.State = StateOK
		it.Detail = st.Device
		if st.Name != "" {
			it.Detail = st.Name
		}
		if strings.HasPrefix(st.Device, "replay:") {
			it.Detail = filepath.Base(strings.TrimPrefix(st.Device, "replay:"))
			if st.Name == camera.FollowName {
				it.Source = SourceCameraFollowReplay
			}
		}
	case camera.StateStarting:
		it.State = StateWarn
	default:
		it.State, it.Detail = StateError, st.Detail
	}
	return it
}

// modelsItem reports the verified model files and whether the engine loaded them.
func modelsItem(files []ModelFile, eng *face.Engine) StatusItem {
	it := StatusItem{Key: "models"}
	if eng == nil {
		it.State, it.Code = StateError, "not_loaded"
		return it
	}
	var total int64
	for _, f := range files {
		total += f.Bytes
	}
	it.State, it.Code = StateOK, "ready"
	it.Figures = fmt.Sprintf("files=%d mb=%.0f model=%s threshold=%.3f", len(files), float64(total)/1e6, eng.Model().ID, eng.Threshold())
	return it
}

// storageItem reports the database and the free space beside it.
func storageItem(ctx context.Context, st *store.Store) StatusItem {
	it := StatusItem{Key: "storage"}
	stats, err := st.Stats(ctx)
	if err != nil {
		it.State, it.Code, it.Detail = StateError, "error", err.Error()
		return it
	}
	free, err := diskFree(filepath.Dir(st.Path()))
	if err != nil {
		it.State, it.Code, it.Detail = StateError, "not_writable", filepath.Dir(st.Path())
		return it
	}
	it.Figures = fmt.Sprintf("registrations=%d gb=%.1f", stats.Registrations, float64(free)/1e9)
	if free < MinFreeBytes {
		it.State, it.Code = StateWarn, "low_space"
		return it
	}
	it.State, it.Code = StateOK, "ok"
	return it
}

func diskFree(dir string) (uint64, error) {
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return 0, err
	}
	probe.Close()
	os.Remove(probe.Name())
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// centralItem combines the sync client's view (enrolled, queue, last error)
// with a health check of the central. A kiosk works offline, so an
// unreachable central is a warning, not an error.
func (a *core) centralItem(ctx context.Context) StatusItem {
	// The node in use (sync.central_urls may list several), else the first.
	base := a.opts.Config.Sync.Centrals()[0]
	if c := a.sync.Load(); c != nil && c.State().Central != "" {
		base = c.State().Central
	}
	it := checkCentral(ctx, a.client, base)
	if a.sync.Load() == nil {
		it.State, it.Code = StateWarn, "not_enrolled"
		return it
	}
	s := a.sync.Load().State()
	switch {
	case s.Revoked:
		it.State, it.Code = StateError, "revoked"
	case it.Code == "online" && s.Queued > 0:
		it.Code = "online_queued"
		it.Figures = fmt.Sprintf("queued=%d", s.Queued)
	case it.Code != "online" && s.Queued > 0:
		it.Figures = fmt.Sprintf("queued=%d", s.Queued)
	}
	return it
}

// checkCentral asks the central's health endpoint.
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
		it.Figures = fmt.Sprintf("http=%d", resp.StatusCode)
		return it
	}
	it.State, it.Code = StateOK, "online"
	return it
}
