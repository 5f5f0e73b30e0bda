// Package camera captures frames for the kiosk: from a USB webcam over V4L2
// (github.com/blackjack/webcam) or from a replay source (a directory of
// JPEG/PNG frames, an .mjpeg file, or any video file decoded by the ffmpeg
// binary) used by the demo and by tests.
//
// A [Camera] owns one capture goroutine that reads a [Source], keeps the
// latest [Frame] and hands it to any number of [Consumer]s without ever
// blocking: a consumer that falls behind skips the frames it missed and the
// skips are counted. The camera reconnects by itself when the device goes
// away and reports every change of its [Status] (with a zh-CN and an English
// message) to watchers. [Preview] serves the frames to the UI as a
// multipart MJPEG stream protected by a per-session token.
package camera
