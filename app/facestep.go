package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"sync"
	"time"

	"examkiosk/device/camera"
	"examkiosk/device/face"
)

// FaceSession tells the face screen where the live picture and its
// per-frame guidance come from (the camera's loopback preview, see
// device/camera.Preview) and what the liveness challenge is.
type FaceSession struct {
	// ID numbers the session: the progress of this session carries it,
	// and the face screen ignores any other.
	ID        int      `json:"id"`
	StreamURL string   `json:"streamUrl"` // <img src>: multipart MJPEG
	EventsURL string   `json:"eventsUrl"` // EventSource: "meta" events carry FaceProgress
	Challenge []string `json:"challenge"` // the actions, in order
	GuideBox  Box      `json:"guideBox"`  // the guide frame, as fractions of the picture
}

// Box is a rectangle as fractions (0..1) of the picture's width and height,
// so the UI can draw it over the picture at any size.
type Box struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// FaceProgress is sent with every analysed frame (as preview metadata) and
// returned by FaceStatus.
type FaceProgress struct {
	Session  int                 `json:"session"` // FaceSession.ID of the step it belongs to
	Phase    string              `json:"phase"`   // live, checking, done, failed
	OK       bool                `json:"ok"`      // the frame is well placed
	Problems []face.Problem      `json:"problems"`
	Face     *Box                `json:"face,omitempty"`
	Liveness face.LivenessStatus `json:"liveness"`
	Result   *FaceResult         `json:"result,omitempty"` // phase done or failed
}

// FaceResult is the outcome of the face step: the ID photo made from the
// live face and its comparison with the live face.
type FaceResult struct {
	Passed    bool           `json:"passed"`    // liveness passed, photo to spec and matching
	Photo     string         `json:"photo"`     // data: URL of the ID photo JPEG
	PhotoOK   bool           `json:"photoOk"`   // the photo meets the exam's spec
	Problems  []face.Problem `json:"problems"`  // what the photo or the comparison failed
	Distance  float64        `json:"distance"`  // live face vs ID photo
	Threshold float64        `json:"threshold"` // per recognition model (config face.thresholds)
	Match     bool           `json:"match"`
	Failure   string         `json:"failure,omitempty"` // why the step failed: a code (frontend/src/i18n errors.<code>)
}

// faceRun is one running face step.
type faceRun struct {
	id      int
	session FaceSession // what StartFaceCheck returned for it
	cancel  context.CancelFunc
	done    chan struct{}

	mu       sync.Mutex
	progress FaceProgress
	outcome  *FaceOutcome
}

func (r *faceRun) set(p FaceProgress) {
	p.Session = r.id
	r.mu.Lock()
	r.progress = p
	r.mu.Unlock()
}

// StartFaceCheck starts the live face step for the logged-in candidate: a
// random liveness challenge over the camera's frames with guidance on
// every frame; when it passes, the ID photo is made from the best frame and
// compared with the fused live descriptor.
//
// One face step runs at a time. A start while a step runs joins it: the
// same session is returned (the screen shown again after a stale journey
// event, a second frontend following the same journey) and the candidate
// keeps the progress made. A step that has ended (failed, timed out,
// stopped) is replaced by a new one. So two challenges never read the
// camera or write the preview's guidance at once, and a screen shown again
// never restarts the candidate's challenge.
func (a *JourneyService) StartFaceCheck() (FaceSession, error) {
	a.faceMu.Lock()
	defer a.faceMu.Unlock()
	a.mu.Lock()
	step, running := a.journey.Step(), a.face
	a.mu.Unlock()
	if step != StepFace {
		return FaceSession{}, refuse("login_first", "step", step)
	}
	if a.opts.Camera == nil || a.opts.Face == nil || a.opts.PreviewServer == nil {
		return FaceSession{}, refuse("face_unavailable")
	}
	if running != nil {
		select {
		case <-running.done:
		default:
			return running.session, nil
		}
	}
	a.stopFace()
	a.mu.Lock()
	defer a.mu.Unlock()
	if step := a.journey.Step(); step != StepFace { // a logout while the old step ended
		return FaceSession{}, refuse("login_first", "step", step)
	}
	live, err := a.opts.Face.NewLiveness()
	if err != nil {
		return FaceSession{}, fmt.Errorf("start liveness: %w", err)
	}
	if a.opts.PAD != nil {
		live.UsePAD(a.opts.PAD)
	}
	a.faceSeq++
	sess := FaceSession{ID: a.faceSeq, StreamURL: a.opts.PreviewServer.StreamURL(), EventsURL: a.opts.PreviewServer.EventsURL()}
	for _, act := range live.Challenge() {
		sess.Challenge = append(sess.Challenge, string(act))
	}
	st := a.opts.Camera.Status()
	w, h := st.Mode.Width, st.Mode.Height
	if w == 0 || h == 0 {
		w, h = a.opts.Config.Camera.Width, a.opts.Config.Camera.Height
	}
	sess.GuideBox = boxOf(a.opts.Face.GuideFrame(w, h), w, h)

	ctx, cancel := context.WithTimeout(a.ctx, 3*time.Minute)
	run := &faceRun{id: sess.ID, session: sess, cancel: cancel, done: make(chan struct{})}
	run.progress = FaceProgress{Session: run.id, Phase: "live", Problems: []face.Problem{}}
	a.face = run
	go a.runFace(ctx, run, live)
	return sess, nil
}

// FaceStatus returns the face step's latest progress.
func (a *JourneyService) FaceStatus() (FaceProgress, error) {
	a.mu.Lock()
	run := a.face
	a.mu.Unlock()
	if run == nil {
		return FaceProgress{}, refuse("face_not_started")
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.progress, nil
}

// CancelFaceCheck stops the running face step and returns once it ended.
func (a *JourneyService) CancelFaceCheck() {
	a.faceMu.Lock()
	defer a.faceMu.Unlock()
	a.stopFace()
}

// stopFace stops the running face step, if any, and waits for it to end.
// The caller holds faceMu, not mu (the step's last stage takes mu).
func (a *core) stopFace() {
	a.mu.Lock()
	run := a.face
	a.face = nil
	a.mu.Unlock()
	if run != nil {
		run.cancel()
		<-run.done
	}
}

func (a *core) runFace(ctx context.Context, run *faceRun, live *face.Liveness) {
	defer close(run.done)
	defer run.cancel()
	if a.opts.Follow != nil {
		defer a.opts.Follow.Prompt("")
	}
	eng := a.opts.Face
	cons := a.opts.Camera.NewConsumer("face")
	defer cons.Close()
	capture := eng.NewCapture()
	publish := func(seq uint64, p FaceProgress) {
		p.Session = run.id
		run.set(p)
		if a.opts.Preview != nil {
			if err := a.opts.Preview.SetMeta(seq, p); err != nil {
				a.log.Warn("preview metadata", "err", err)
			}
		}
	}
	var lastSeq uint64
	attempt := 1
	for {
		frame, err := cons.Next(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, camera.ErrTimeout) {
				switch {
				case errors.Is(ctx.Err(), context.DeadlineExceeded):
					publish(lastSeq, FaceProgress{Phase: "failed", Problems: []face.Problem{}, Result: &FaceResult{Failure: "face_timeout"}})
					return
				case ctx.Err() != nil:
					// Stopped by the kiosk (a new step, a logout): the
					// screen has moved on, nothing to tell it.
					return
				}
				continue
			}
			publish(lastSeq, FaceProgress{Phase: "failed", Problems: []face.Problem{}, Result: &FaceResult{Failure: "camera_no_picture"}})
			return
		}
		lastSeq = frame.Seq
		img, err := frame.Image()
		if err != nil {
			continue // a damaged frame: the next one will do
		}
		st, g, err := live.Feed(eng, img, frame.Time)
		if err != nil {
			a.log.Warn("face analysis", "err", err)
			continue
		}
		if a.opts.Follow != nil {
			a.opts.Follow.Prompt(string(st.Action)) // demo: the recorded person hears the prompt
		}
		if st.Attempt > attempt {
			// A failed attempt the candidate may retry: the log says why.
			a.log.Info("liveness attempt failed", "attempt", attempt, "of", st.Attempts, "reason", st.Reason)
			attempt = st.Attempt
		}
		if g.OK {
			capture.Add(img, g)
		}
		p := FaceProgress{Phase: "live", OK: g.OK, Problems: g.Problems, Liveness: st}
		if p.Problems == nil {
			p.Problems = []face.Problem{}
		}
		if g.Face != nil {
			b := img.Bounds()
			fb := boxOf(g.Face.Rect.Sub(b.Min), b.Dx(), b.Dy())
			p.Face = &fb
		}
		switch st.State {
		case face.LivenessFailed:
			p.Phase = "failed"
			p.Result = &FaceResult{Failure: "liveness_failed"}
			a.log.Info("liveness failed", "reason", st.Reason)
			publish(frame.Seq, p)
			return
		case face.LivenessPassed:
			if capture.Len() == 0 {
				break // passed, but no usable frame yet: keep looking
			}
			p.Phase = "checking"
			publish(frame.Seq, p)
			res, out := a.finishFace(ctx, capture)
			p.Phase, p.Result = "done", &res
			run.mu.Lock()
			run.outcome = out
			run.mu.Unlock()
			publish(frame.Seq, p)
			return
		}
		publish(frame.Seq, p)
	}
}

// finishFace makes the ID photo from the best live frame and compares it
// with the fused live descriptor.
func (a *core) finishFace(ctx context.Context, capture *face.Capture) (FaceResult, *FaceOutcome) {
	eng := a.opts.Face
	res := FaceResult{Threshold: eng.Threshold(), Problems: []face.Problem{}}
	live, err := capture.Descriptor(ctx)
	if err != nil {
		res.Failure = "face_descriptor_failed"
		a.log.Warn("live descriptor", "err", err)
		return res, nil
	}
	photo, report, err := eng.MakeIDPhoto(ctx, capture.Best(), a.opts.Config.Face.Photo)
	if err != nil {
		res.Failure = "photo_make_failed"
		a.log.Warn("make ID photo", "err", err)
		return res, nil
	}
	res.Photo = "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(photo)
	res.PhotoOK = report.OK
	res.Problems = append(res.Problems, report.Problems...)
	v, err := eng.VerifyPhoto(ctx, live, photo)
	if err != nil {
		res.Failure = "photo_compare_failed"
		a.log.Warn("verify ID photo", "err", err)
		return res, nil
	}
	res.Distance, res.Match = v.Distance, v.Match
	res.Problems = append(res.Problems, v.Problems...)
	// One face, one identity: a match under another ID number marks the
	// registration for staff and reviewers; it never turns the candidate
	// away (app/duplicate.go).
	dup := a.duplicateSearch(ctx, live)
	res.Passed = res.PhotoOK && res.Match
	out := &FaceOutcome{
		LivenessPassed:  true,
		Descriptors:     [][]float32{live.Vec},
		DescriptorModel: live.Model,
		Photo:           photo,
		Distance:        v.Distance,
		Threshold:       v.Threshold,
		PhotoOK:         res.PhotoOK,
		Match:           res.Passed,
		Problems:        res.Problems,
		Duplicate:       dup,
	}
	return res, out
}

// AcceptFace takes the finished face step's outcome into the journey and
// moves to the photo step.
func (a *JourneyService) AcceptFace() (JourneyView, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	run := a.face
	if run == nil {
		return a.viewLocked(), refuse("face_not_started")
	}
	run.mu.Lock()
	out := run.outcome
	run.mu.Unlock()
	if out == nil {
		return a.viewLocked(), refuse("face_not_finished")
	}
	a.journey.face = out
	a.face = nil
	if err := a.journey.Go(StepPhoto); err != nil {
		return a.viewLocked(), err
	}
	return a.viewLocked(), nil
}

func boxOf(r image.Rectangle, w, h int) Box {
	if w == 0 || h == 0 {
		return Box{}
	}
	return Box{X: float64(r.Min.X) / float64(w), Y: float64(r.Min.Y) / float64(h), W: float64(r.Dx()) / float64(w), H: float64(r.Dy()) / float64(h)}
}
