package camera

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"time"
)

// State is the condition of the camera as the app and the UI see it.
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

// messages holds the user-facing text of each state: Chinese first, saying
// what is wrong and what to do.
var messages = map[State][2]string{
	StateStarting:     {"正在启动摄像头，请稍候。", "Starting the camera, please wait."},
	StateOK:           {"摄像头工作正常。", "The camera is working."},
	StateDisconnected: {"摄像头连接已断开。请检查USB连接线，重新插好后将自动恢复。", "The camera was disconnected. Check the USB cable; it resumes by itself when plugged back in."},
	StateBusy:         {"摄像头正被其他程序占用。请关闭其他使用摄像头的程序，或联系工作人员。", "The camera is in use by another program. Close that program or call a staff member."},
	StateNoDevice:     {"未检测到摄像头。请连接USB摄像头，连接后将自动启用。", "No camera found. Connect a USB camera; it is used as soon as it appears."},
	StateNotCapture:   {"所选设备不能采集视频。请联系工作人员在配置中选择正确的摄像头。", "The selected device cannot capture video. Ask staff to select the right camera in the configuration."},
	StateNoPermission: {"没有访问摄像头的权限。请联系工作人员将运行账户加入 video 组。", "No permission to open the camera. Ask staff to add the kiosk user to the video group."},
	StateUnsupported:  {"摄像头不支持所需的图像格式（MJPEG 或 YUYV）。请更换摄像头或联系工作人员。", "The camera offers no usable image format (MJPEG or YUYV). Replace the camera or call staff."},
	StateStalled:      {"摄像头没有输出画面，正在重新连接。", "The camera stopped sending pictures; reconnecting."},
	StateEnded:        {"回放已结束。", "The replay has ended."},
	StateError:        {"摄像头出现故障，正在重试。如持续出现，请联系工作人员。", "The camera failed; retrying. If this persists, call a staff member."},
	StateClosed:       {"摄像头已关闭。", "The camera is closed."},
}

// Message returns the zh-CN and English user-facing text of the state.
func (s State) Message() (zh, en string) {
	m, ok := messages[s]
	if !ok {
		m = messages[StateError]
	}
	return m[0], m[1]
}

// Status is a snapshot of the camera condition, sent to the UI as JSON.
type Status struct {
	State     State     `json:"state"`
	Device    string    `json:"device"`           // the spec or device path in use
	Name      string    `json:"name,omitempty"`   // device name reported by the driver
	Mode      Mode      `json:"mode"`             // negotiated format, size and rate
	MessageZH string    `json:"message_zh"`       // what is wrong and what to do, Chinese
	MessageEN string    `json:"message_en"`       // the same in English
	Detail    string    `json:"detail,omitempty"` // the underlying error, for staff and logs
	Since     time.Time `json:"since"`            // when the state was entered
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

// newStatus builds a status with the messages of its state.
func newStatus(st State, device string, err error) Status {
	zh, en := st.Message()
	s := Status{State: st, Device: device, MessageZH: zh, MessageEN: en, Since: time.Now()}
	if err != nil {
		s.Detail = err.Error()
	}
	return s
}
