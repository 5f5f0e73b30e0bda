package camera

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
//     decode, no re-encode, no base64 and no JSON per frame in Go;
//   - WebKit decodes and paints the parts natively in its web process, with
//     no JavaScript per frame (events with base64 JPEG data would cost a
//     base64 encode in Go, a JSON string through the IPC bridge and a
//     data-URL decode in JS, about 4/3 of the bytes twice, 15 times a
//     second);
//   - Wails v2's asset-server handler on Linux goes through the webkit
//     custom-scheme API, which is request/response oriented and not meant
//     for an endless streamed body.
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
//	GET stream.mjpeg?token=T  multipart/x-mixed-replace; boundary=ekframe;
//	                          each part has Content-Type: image/jpeg,
//	                          Content-Length, X-Frame-Seq and X-Capture-Time
//	                          (Unix microseconds)
//	GET frame.jpg?token=T     the latest frame as one JPEG (X-Frame-Seq set)
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
	return &Preview{cam: cam, cfg: cfg, token: hex.EncodeToString(b[:]), log: cam.log, metaNotify: make(chan struct{})}, nil
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

const boundary = "ekframe"

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
	w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+boundary)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// The boundary follows each frame at once, so the browser knows the part
	// is complete without waiting for the next frame.
	if _, err := fmt.Fprintf(w, "--%s\r\n", boundary); err != nil {
		return
	}
	minGap := time.Duration(float64(time.Second) / p.cfg.PreviewFPS * 0.9)
	var last time.Time
	hdr := make([]byte, 0, 160)
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
		if err != nil {
			p.log.Debug("preview frame", "err", err)
			continue
		}
		hdr = hdr[:0]
		hdr = append(hdr, "Content-Type: image/jpeg\r\nContent-Length: "...)
		hdr = strconv.AppendInt(hdr, int64(len(data)), 10)
		hdr = append(hdr, "\r\nX-Frame-Seq: "...)
		hdr = strconv.AppendUint(hdr, f.Seq, 10)
		hdr = append(hdr, "\r\nX-Capture-Time: "...)
		hdr = strconv.AppendInt(hdr, f.Time.UnixMicro(), 10)
		hdr = append(hdr, "\r\n\r\n"...)
		rc.SetWriteDeadline(time.Now().Add(5 * time.Second)) // drop a stuck client
		if _, err := w.Write(hdr); err != nil {
			return
		}
		if _, err := w.Write(data); err != nil {
			return
		}
		if _, err := w.Write([]byte("\r\n--" + boundary + "\r\n")); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func (p *Preview) serveFrame(w http.ResponseWriter, r *http.Request) {
	f, ok := p.cam.Latest()
	if !ok {
		st := p.cam.Status()
		http.Error(w, st.MessageZH+" "+st.MessageEN, http.StatusServiceUnavailable)
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
