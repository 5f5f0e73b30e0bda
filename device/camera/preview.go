package camera

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Preview serves the live camera picture to the UI.
//
// Why this transport: WebKitGTK in Wails v2 refuses getUserMedia, so frames
// have to come from Go. Of the three ways to get them to the page, a
// loopback multipart MJPEG stream (an <img> whose src is
// multipart/x-mixed-replace) is the cheapest and has the lowest latency:
//   - the JPEG bytes an MJPEG webcam sends go to the socket unchanged: no
//     decode, no re-encode, no base64 and no JSON per frame in Go (0.7% of
//     a core at 15 fps, BenchmarkPreview);
//   - WebKit decodes and paints the parts natively in its web process, with
//     no JavaScript per frame. Wails v2 events on Linux are delivered by
//     ExecJS of a script that embeds the JSON payload, so a frame as an
//     event would be base64 (4/3 of the bytes) inside a ~50 KB script
//     string parsed and run 15 times a second, then a data-URL decode;
//   - Wails v2's asset-server handler on Linux goes through the WebKit
//     custom-scheme API, which is request/response oriented and not meant
//     for an endless streamed body.
//
// Measured in WebKitGTK (the engine Wails uses) from a wails://wails/ page:
// the stream shows at 15 fps with 16 ms median, 23 ms p95 from capture to
// the first animation frame that displays it (BenchmarkPreviewBrowser).
//
// The listener binds to 127.0.0.1 only and every request must carry the
// per-session token (a 128-bit random value, in the "token" query parameter
// because an <img> cannot send headers, or in an X-Camera-Token header);
// requests whose Host is not the loopback address are refused, against DNS
// rebinding. Preview is an http.Handler, so the app may also mount it
// elsewhere (behind http.StripPrefix).
//
// Routes (relative to where it is mounted):
//
//	GET stream.mjpeg?token=T  multipart/x-mixed-replace; boundary=ekframe…;
//	                          each part is Content-Type: image/jpeg (no
//	                          Content-Length) and its JPEG starts with a COM
//	                          segment "examkiosk-frame seq=N t=µs" (see
//	                          FrameComment)
//	GET frame.jpg?token=T     the latest frame as one JPEG (X-Frame-Seq and
//	                          X-Capture-Time headers)
//	GET events?token=T        text/event-stream: "status" events (Status
//	                          JSON) and "meta" events ({"seq":N,"data":…}
//	                          as given to SetMeta), for the guidance overlay
type Preview struct {
	cam   *Camera
	cfg   Config
	token string
	log   *slog.Logger

	clients atomic.Int32
	n       atomic.Uint64 // consumer names

	boundary string // random per Preview, so no frame can contain it

	cacheMu   sync.Mutex // JPEG of the latest non-JPEG frame
	cacheSeq  uint64
	cacheJPEG []byte

	metaMu     sync.Mutex
	meta       []byte // JSON of the latest metadata event
	metaVer    uint64
	metaNotify chan struct{}
}

// NewPreview returns a preview of cam with a fresh random token.
func NewPreview(cam *Camera, cfg Config) (*Preview, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("preview token: %w", err)
	}
	var bb [8]byte
	if _, err := rand.Read(bb[:]); err != nil {
		return nil, fmt.Errorf("preview boundary: %w", err)
	}
	return &Preview{cam: cam, cfg: cfg, token: hex.EncodeToString(b[:]), boundary: "ekframe" + hex.EncodeToString(bb[:]),
		log: cam.log, metaNotify: make(chan struct{})}, nil
}

// Token returns the per-session token that requests must carry.
func (p *Preview) Token() string { return p.token }

// SetMeta publishes per-frame metadata for the UI overlay (for example the
// face guidance computed on frame seq). v is encoded as JSON and sent on the
// events stream as {"seq":seq,"data":v}; a slow client only gets the latest.
func (p *Preview) SetMeta(seq uint64, v any) error {
	b, err := json.Marshal(struct {
		Seq  uint64 `json:"seq"`
		Data any    `json:"data"`
	}{seq, v})
	if err != nil {
		return fmt.Errorf("encode preview metadata: %w", err)
	}
	p.metaMu.Lock()
	p.meta = b
	p.metaVer++
	close(p.metaNotify)
	p.metaNotify = make(chan struct{})
	p.metaMu.Unlock()
	return nil
}

// ServeHTTP implements the routes described on Preview.
func (p *Preview) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		tok = r.Header.Get("X-Camera-Token")
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(p.token)) != 1 {
		http.Error(w, "missing or wrong camera preview token", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o) // the token is the credential
		w.Header().Set("Access-Control-Expose-Headers", "X-Frame-Seq, X-Capture-Time")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch {
	case strings.HasSuffix(r.URL.Path, "/stream.mjpeg") || r.URL.Path == "stream.mjpeg":
		p.serveStream(w, r)
	case strings.HasSuffix(r.URL.Path, "/frame.jpg") || r.URL.Path == "frame.jpg":
		p.serveFrame(w, r)
	case strings.HasSuffix(r.URL.Path, "/events") || r.URL.Path == "events":
		p.serveEvents(w, r)
	default:
		http.NotFound(w, r)
	}
}

// jpegOf returns the JPEG bytes of f, encoding non-JPEG frames once however
// many clients watch.
func (p *Preview) jpegOf(f Frame) ([]byte, error) {
	if f.Format.isJPEG() {
		return f.Data, nil
	}
	p.cacheMu.Lock()
	defer p.cacheMu.Unlock()
	if p.cacheSeq == f.Seq && p.cacheJPEG != nil {
		return p.cacheJPEG, nil
	}
	b, err := f.JPEG(p.cfg.PreviewQuality)
	if err != nil {
		return nil, err
	}
	p.cacheSeq, p.cacheJPEG = f.Seq, b
	return b, nil
}

// partHeader opens a part. It is sent right after the boundary that closes
// the previous part: WebKit and Chromium show a part only once they have
// parsed the next part's headers, so sending them ahead saves one frame
// period of latency (measured: 270 ms → 15 ms at 4 fps). That is also why
// parts carry no Content-Length and the frame number travels inside the
// JPEG as a comment (see FrameComment).
const partHeader = "Content-Type: image/jpeg\r\n\r\n"

func (p *Preview) serveStream(w http.ResponseWriter, r *http.Request) {
	if p.clients.Add(1) > int32(p.cfg.PreviewMaxClients) {
		p.clients.Add(-1)
		http.Error(w, "too many preview clients", http.StatusServiceUnavailable)
		return
	}
	defer p.clients.Add(-1)
	k := p.cam.NewConsumer("preview-" + strconv.FormatUint(p.n.Add(1), 10))
	defer k.Close()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+p.boundary)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.WriteString(w, "--"+p.boundary+"\r\n"+partHeader); err != nil {
		return
	}
	rc.Flush()
	tail := []byte("\r\n--" + p.boundary + "\r\n" + partHeader)
	minGap := time.Duration(float64(time.Second) / p.cfg.PreviewFPS * 0.9)
	var last time.Time
	com := make([]byte, 0, 64)
	for {
		f, err := k.Next(r.Context())
		if err != nil {
			return
		}
		if f.Time.Sub(last) < minGap {
			continue // above the preview rate cap
		}
		last = f.Time
		data, err := p.jpegOf(f)
		if err != nil || len(data) < 4 {
			p.log.Debug("preview frame", "err", err)
			continue
		}
		com = appendFrameComment(com[:0], f)
		rc.SetWriteDeadline(time.Now().Add(5 * time.Second)) // drop a stuck client
		// SOI, the comment, the rest of the JPEG: no copy of the frame.
		for _, b := range [][]byte{data[:2], com, data[2:], tail} {
			if _, err := w.Write(b); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// frameCommentPrefix starts the JPEG comment that names a streamed frame.
const frameCommentPrefix = "examkiosk-frame "

// appendFrameComment appends a JPEG COM segment
// "examkiosk-frame seq=N t=UNIX_MICROSECONDS" for f.
func appendFrameComment(b []byte, f Frame) []byte {
	start := len(b)
	b = append(b, 0xff, 0xfe, 0, 0)
	b = append(b, frameCommentPrefix+"seq="...)
	b = strconv.AppendUint(b, f.Seq, 10)
	b = append(b, " t="...)
	b = strconv.AppendInt(b, f.Time.UnixMicro(), 10)
	n := len(b) - start - 2
	b[start+2], b[start+3] = byte(n>>8), byte(n)
	return b
}

// FrameComment reads the frame number and capture time that the preview
// stream puts in each JPEG (a COM segment right after SOI). A client that
// reads the stream with fetch() can use it to match a frame with the
// metadata of the same seq.
func FrameComment(jpeg []byte) (seq uint64, captured time.Time, ok bool) {
	if len(jpeg) < 6 || jpeg[0] != 0xff || jpeg[1] != markerSOI || jpeg[2] != 0xff || jpeg[3] != 0xfe {
		return 0, time.Time{}, false
	}
	n := int(jpeg[4])<<8 | int(jpeg[5])
	if n < 2 || 4+n > len(jpeg) {
		return 0, time.Time{}, false
	}
	text, found := strings.CutPrefix(string(jpeg[6:4+n]), frameCommentPrefix)
	if !found {
		return 0, time.Time{}, false
	}
	var us int64
	if _, err := fmt.Sscanf(text, "seq=%d t=%d", &seq, &us); err != nil {
		return 0, time.Time{}, false
	}
	return seq, time.UnixMicro(us), true
}

func (p *Preview) serveFrame(w http.ResponseWriter, r *http.Request) {
	f, ok := p.cam.Latest()
	if !ok {
		http.Error(w, "camera "+string(p.cam.Status().State), http.StatusServiceUnavailable)
		return
	}
	data, err := p.jpegOf(f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("X-Frame-Seq", strconv.FormatUint(f.Seq, 10))
	w.Header().Set("X-Capture-Time", strconv.FormatInt(f.Time.UnixMicro(), 10))
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

func (p *Preview) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	ctx := r.Context()
	statuses := p.cam.Watch(ctx)
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	var ver uint64
	p.metaMu.Lock()
	ver = p.metaVer // send only metadata newer than the connection
	p.metaMu.Unlock()
	for {
		p.metaMu.Lock()
		notify, meta, mver := p.metaNotify, p.meta, p.metaVer
		p.metaMu.Unlock()
		if mver != ver {
			ver = mver
			if !sse(w, rc, "meta", meta) {
				return
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case st, ok := <-statuses:
			if !ok {
				return
			}
			b, _ := json.Marshal(st)
			if !sse(w, rc, "status", b) {
				return
			}
		case <-notify:
		case <-keepalive.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

func sse(w http.ResponseWriter, rc *http.ResponseController, event string, data []byte) bool {
	rc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
		return false
	}
	return rc.Flush() == nil
}

// PreviewServer is a Preview listening on the loopback interface.
type PreviewServer struct {
	// URL is the base address, e.g. "http://127.0.0.1:41234/camera/".
	URL   string
	token string
	srv   *http.Server
	done  chan struct{}
}

// StreamURL is the src for the preview <img>.
func (s *PreviewServer) StreamURL() string { return s.URL + "stream.mjpeg?token=" + s.token }

// FrameURL returns the latest frame as a single JPEG.
func (s *PreviewServer) FrameURL() string { return s.URL + "frame.jpg?token=" + s.token }

// EventsURL is the address for an EventSource of status and metadata.
func (s *PreviewServer) EventsURL() string { return s.URL + "events?token=" + s.token }

// Listen serves the preview under /camera/ on addr, which must be a
// loopback address ("127.0.0.1:0" picks a free port), until ctx ends or
// Close is called.
func (p *Preview) Listen(ctx context.Context, addr string) (*PreviewServer, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("preview address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("preview address %q: want a loopback IP address such as 127.0.0.1:0", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("preview listen %s: %w", addr, err)
	}
	bound := ln.Addr().String()
	_, port, _ := net.SplitHostPort(bound)
	mux := http.NewServeMux()
	mux.Handle("/camera/", p)
	s := &PreviewServer{URL: "http://" + bound + "/camera/", token: p.token, done: make(chan struct{})}
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Host != bound && r.Host != "localhost:"+port {
				http.Error(w, "wrong host", http.StatusMisdirectedRequest)
				return
			}
			mux.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("preview server", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// Close stops the server and ends open streams.
func (s *PreviewServer) Close() error {
	err := s.srv.Close()
	<-s.done
	if err != nil {
		return fmt.Errorf("close preview server: %w", err)
	}
	return nil
}
