package camera

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"time"
)

// State is the condition of the camera as the app and the UI see it. The
// words that say what is wrong and what to do are the UI's
// (frontend/src/i18n: camera.<state>).
type State string

// Camera states.
const (
	StateStarting     State = "starting"      // opening the source for the first time
	StateOK           State = "ok"            // frames are flowing
	StateDisconnected State = "disconnected"  // the device went away; reconnecting
	StateBusy         State = "busy"          // another program holds the device
	StateNoDevice     State = "no_device"     // no camera found
	StateNotCapture   State = "not_capture"   // the device cannot capture video
	StateNoPermission State = "no_permission" // the kiosk user may not open the device
	StateUnsupported  State = "unsupported"   // no usable pixel format (MJPEG, YUYV)
	StateStalled      State = "stalled"       // no frame within the timeout; reopening
	StateEnded        State = "ended"         // a replay without looping reached its end
	StateError        State = "error"         // anything else; retried
	StateClosed       State = "closed"        // Close was called
)

// Status is a snapshot of the camera condition, sent to the UI as JSON.
type Status struct {
	State  State     `json:"state"`
	Device string    `json:"device"`           // the spec or device path in use
	Name   string    `json:"name,omitempty"`   // device name reported by the driver
	Mode   Mode      `json:"mode"`             // negotiated format, size and rate
	Detail string    `json:"detail,omitempty"` // the underlying error, for staff and logs
	Since  time.Time `json:"since"`            // when the state was entered
}

// Error is a failure of a source with the state it puts the camera in.
type Error struct {
	State  State  // what the failure means for the user
	Op     string // the operation that failed, e.g. "open", "read frame"
	Device string
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("camera %s %s: %s", e.Op, e.Device, e.State)
	}
	return fmt.Sprintf("camera %s %s: %v", e.Op, e.Device, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Sentinel errors carried inside *Error values.
var (
	ErrTimeout = errors.New("no frame before the timeout")
	ErrClosed  = errors.New("camera closed")
)

// StateOf returns the state an error from a source puts the camera in.
// Errors that are not *Error are classified by their errno or text, which
// is how github.com/blackjack/webcam reports them.
func StateOf(err error) State {
	if err == nil {
		return StateOK
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce.State
	}
	switch {
	case errors.Is(err, ErrTimeout):
		return StateStalled
	case errors.Is(err, syscall.EBUSY):
		return StateBusy
	case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENXIO), errors.Is(err, syscall.EIO):
		return StateDisconnected
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOENT):
		return StateNoDevice
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return StateNoPermission
	case errors.Is(err, syscall.ENOTTY):
		return StateNotCapture // not a V4L2 device at all
	}
	// blackjack/webcam flattens some errno values into text.
	s := strings.ToLower(err.Error())
	switch {
	case strings.Contains(s, "not a video capture device"), strings.Contains(s, "does not support the streaming"):
		return StateNotCapture
	case strings.Contains(s, "busy"):
		return StateBusy
	case strings.Contains(s, "no such device"), strings.Contains(s, "input/output error"):
		return StateDisconnected
	}
	return StateError
}

// newStatus builds a status.
func newStatus(st State, device string, err error) Status {
	s := Status{State: st, Device: device, Since: time.Now()}
	if err != nil {
		s.Detail = err.Error()
	}
	return s
}
