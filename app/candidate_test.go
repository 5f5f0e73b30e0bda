package app

import (
	"context"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"examkiosk/app/registration"
	"examkiosk/app/store"
	"examkiosk/device/camera"
	"examkiosk/device/face"
	"examkiosk/internal/testenv"
	"examkiosk/sync/wire"
)

// engine is the real face engine with the default configuration.
func engine(t *testing.T) *face.Engine {
	t.Helper()
	cfg := face.DefaultConfig()
	cfg.ModelsDir = testenv.ModelsDir(t)
	return sharedEngine(t, cfg)
}

// The engines the tests share, by configuration: the models load once per
// test binary instead of once per test (about a second of CPU each). The
// App never closes the engine it is given, so sharing one changes nothing
// a test sees; TestMain closes them.
var (
	enginesMu sync.Mutex
	engines   = map[string]*face.Engine{}
)

func sharedEngine(t *testing.T, cfg face.Config) *face.Engine {
	t.Helper()
	key, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	enginesMu.Lock()
	defer enginesMu.Unlock()
	if eng := engines[string(key)]; eng != nil {
		return eng
	}
	eng, err := face.NewEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	engines[string(key)] = eng
	return eng
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, eng := range engines {
		eng.Close()
	}
	os.Exit(code)
}

func catalogStore(t *testing.T) *store.Store {
	t.Helper()
	st := testStore(t)
	now := time.Now()
	cat := wire.Catalog{Version: 1, Exams: []wire.Exam{{
		ID: "E1", Name: "2026年公务员考试", RegisterFrom: now.Add(-time.Hour), RegisterUntil: now.Add(24 * time.Hour),
		PayUntil: now.Add(48 * time.Hour), Positions: []wire.Position{{ID: "P1", Name: "综合管理岗"}, {ID: "P2", Name: "信息技术岗"}},
	}}}
	if err := st.PutCatalog(context.Background(), cat); err != nil {
		t.Fatal(err)
	}
	return st
}

// passFace gives the journey the outcome of a real face step: the ID photo
// made from a real portrait and its comparison with the same face.
func passFace(t *testing.T, a *App, eng *face.Engine) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.FacesDir(t), "idphoto", "portrait", "deepface_img11.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := face.DecodeImage(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	live, _, err := eng.Descriptor(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	photo, report, err := eng.MakeIDPhoto(ctx, img, a.opts.Config.Face.Photo)
	if err != nil || !report.OK {
		t.Fatalf("make ID photo: %v %+v", err, report.Problems)
	}
	v, err := eng.VerifyPhoto(ctx, live, photo)
	if err != nil || !v.Match {
		t.Fatalf("verify: %v %+v", err, v)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.journey.face = &FaceOutcome{LivenessPassed: true, Descriptors: [][]float32{live.Vec}, DescriptorModel: live.Model, Photo: photo,
		Distance: v.Distance, Threshold: v.Threshold, PhotoOK: true, Match: true}
	if err := a.journey.Go(StepPhoto); err != nil {
		t.Fatal(err)
	}
}

func TestCandidateJourney(t *testing.T) {
	eng := engine(t)
	st := catalogStore(t)
	a := testApp(t, Options{Store: st, Face: eng})

	if _, err := a.OfflineLogin("张三", "110105194912310021"); err == nil {
		t.Fatal("logging in before leaving the welcome screen must be refused")
	}
	if _, err := a.Begin(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.OfflineLogin("张三", "110105194912310021"); err == nil {
		t.Fatal("a bad check digit must be refused")
	} else if r, ok := FormatError(err).(*Refusal); !ok || r.Code != "id_check_digit" || r.Field != "id_number" {
		t.Fatalf("a bad check digit must reach the UI as its code, got %#v", FormatError(err))
	}
	v, err := a.OfflineLogin("张三", "11010519491231002x")
	if err != nil {
		t.Fatal(err)
	}
	if v.Step != StepFace || v.Candidate.Masked != "110***********002X" || v.Candidate.Birth != "1949-12-31" {
		t.Fatalf("after login: %+v %+v", v, v.Candidate)
	}
	if _, err := a.AcceptPhoto(); err == nil {
		t.Fatal("the form must not open before the face check")
	}
	passFace(t, a, eng)
	if v, err = a.AcceptPhoto(); err != nil || v.Step != StepForm || v.Photo == "" || !v.Match {
		t.Fatalf("accept photo: %v %+v", err, v.Step)
	}

	form := ApplicationForm{Phone: "1380013800", Education: "bachelor", Major: "计算机科学", GraduationYear: 1972, ExamID: "E1", PositionID: "P9"}
	_, err = a.SaveForm(form)
	fe, ok := FormatError(err).(*Refusal)
	if !ok || fe.Code != "form" {
		t.Fatalf("a bad form must reach the UI as a form refusal, got %v", err)
	}
	fields := map[string]string{}
	for _, p := range fe.Problems {
		fields[p.Field] = p.Code
	}
	if fields["phone"] != "phone_format" || fields["position_id"] != "unknown_position" || len(fe.Problems) != 2 {
		t.Fatalf("want the phone and the position refused with their codes, got %+v", fe.Problems)
	}
	form.Phone, form.PositionID = "13800138000", "P2"
	if v, err = a.SaveForm(form); err != nil || v.Step != StepReview {
		t.Fatalf("save form: %v %v", err, v.Step)
	}
	if v, err = a.Submit(); err != nil || v.Step != StepReceipt || v.Receipt == nil {
		t.Fatalf("submit: %v %+v", err, v)
	}
	if v.Receipt.Exam != "2026年公务员考试" || v.Receipt.Position != "信息技术岗" || v.Receipt.Status != "submitted" || v.Receipt.ReceiptQR == "" {
		t.Fatalf("receipt: %+v", v.Receipt)
	}
	regs, err := st.ListByCandidate(context.Background(), "11010519491231002X")
	if err != nil || len(regs) != 1 || regs[0].IdentitySource != registration.SourceOfflineUnverified {
		t.Fatalf("stored: %v %+v", err, regs)
	}
	if full, err := st.Get(context.Background(), regs[0].ID); err != nil || len(full.Photo) < 20<<10 || len(full.Descriptors) != 1 || !full.LivenessPassed {
		t.Fatalf("stored photo and face data: %v, %d bytes, %d descriptors", err, len(full.Photo), len(full.Descriptors))
	}
	if q, _, _ := st.Depth(context.Background()); q != 1 {
		t.Fatalf("queued for delivery: %d, want 1", q)
	}

	// A second application for the same exam is refused with a reason.
	if v, err = a.ShowStatus(); err != nil || v.Step != StepStatus || len(v.Registrations) != 1 {
		t.Fatalf("status: %v %+v", err, v)
	}
	if _, err = a.NewApplication(); err != nil {
		t.Fatal(err)
	}
	passFace(t, a, eng)
	a.AcceptPhoto()
	form.PositionID = "P1"
	if _, err = a.SaveForm(form); err != nil {
		t.Fatal(err)
	}
	if _, err = a.Submit(); !errors.Is(err, registration.ErrDuplicate) {
		t.Fatalf("duplicate registration: got %v", err)
	} else if r := FormatError(err).(*Refusal); r.Code != "form" || r.Problems[0].Code != "duplicate" {
		t.Fatalf("duplicate registration reaches the UI as %+v", r)
	}

	v = a.Logout()
	if v.Step != StepWelcome || v.Candidate != nil || len(v.Registrations) != 0 {
		t.Fatalf("logout kept the candidate: %+v", v)
	}
}

// The face step runs the real pipeline on a real webcam clip: frames from
// the replay camera are analysed and the progress carries the face box and
// the liveness challenge.
func TestFaceStepOnReplay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := replayFaceApp(ctx, t)
	if _, err := a.StartFaceCheck(); err == nil {
		t.Fatal("the face step needs a logged-in candidate")
	}
	a.Begin()
	if _, err := a.OfflineLogin("张三", "11010519491231002X"); err != nil {
		t.Fatal(err)
	}
	sess, err := a.StartFaceCheck()
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.Challenge) < 2 || !strings.HasPrefix(sess.StreamURL, "http://127.0.0.1:") || sess.GuideBox.W <= 0 {
		t.Fatalf("session: %+v", sess)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := a.FaceStatus()
		if err != nil {
			t.Fatal(err)
		}
		if p.Face != nil && p.Liveness.Steps == len(sess.Challenge) {
			if p.Face.X <= 0 || p.Face.X+p.Face.W >= 1 || p.Face.W < 0.1 {
				t.Fatalf("face box not inside the picture: %+v", p.Face)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no analysed frame with a face within 20 s: %+v", p)
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.CancelFaceCheck()
	if _, err := a.FaceStatus(); err == nil {
		t.Fatal("a cancelled face step has no status")
	}
}

// The face step runs the real liveness challenge, fused with the passive
// presentation-attack detector, to the end on a webcam clip: played as a
// person following the prompts (the demo's camera: the clip's annotated
// actions in the order asked, after a human reaction delay) it passes; the
// same clip looped as recorded is refused.
func TestFaceStepLivenessOnClip(t *testing.T) {
	clip := installedDemoClip(t) // the clip DemoFollowScript annotates
	eng := demoEngine(t)
	script, err := DemoFollowScript()
	if err != nil {
		t.Fatal(err)
	}
	models := testenv.ModelsDir(t)
	if _, err := os.Stat(filepath.Join(models, face.PADModel)); err != nil {
		t.Skipf("%s not installed (run build/setup.sh models): %v", face.PADModel, err)
	}
	pad, err := face.OpenPAD(models, "")
	if err != nil {
		t.Fatal(err)
	}
	defer pad.Close()
	for _, tc := range []struct {
		name   string
		follow bool
		want   string
	}{
		{"following the prompts", true, "done"},
		{"looped recording", false, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ccfg := camera.DefaultConfig()
			ccfg.ReplayLoop = true
			var f *camera.Follower
			var cam *camera.Camera
			if tc.follow {
				f = camera.NewFollower(script, ccfg.FPS, mrand.New(mrand.NewPCG(14, 1)))
				cam = camera.New(ctx, func(ctx context.Context) (camera.Source, error) {
					return camera.OpenFollow(ctx, clip, f, ccfg)
				}, "replay:"+clip, ccfg)
			} else if cam, err = camera.Open(ctx, "replay:"+clip, ccfg); err != nil {
				t.Fatal(err)
			}
			defer cam.Close()
			pv, srv := previewOf(ctx, t, cam, ccfg)
			a := testApp(t, Options{Store: catalogStore(t), Face: eng, Camera: cam, Preview: pv, PreviewServer: srv, Follow: f, PAD: pad})
			a.Begin()
			if _, err := a.OfflineLogin("张三", "11010519491231002X"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.StartFaceCheck(); err != nil {
				t.Fatal(err)
			}
			defer a.CancelFaceCheck()
			deadline := time.Now().Add(150 * time.Second)
			phases := map[face.LivenessPhase]bool{}
			var p FaceProgress
			for {
				if p, err = a.FaceStatus(); err != nil {
					t.Fatal(err)
				}
				phases[p.Liveness.Phase] = true
				if p.Phase == "done" || p.Phase == "failed" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the face step did not end within 150 s: %+v", p)
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("phase %s, liveness %+v, phases seen %v", p.Phase, p.Liveness, phases)
			if p.Phase != tc.want {
				t.Fatalf("face step ended %s (%+v), want %s", p.Phase, p.Result, tc.want)
			}
			if tc.follow {
				if p.Liveness.State != face.LivenessPassed || !phases[face.PhaseAct] {
					t.Errorf("liveness %+v: want passed after prompts", p.Liveness)
				}
				if _, err := a.AcceptFace(); err != nil {
					t.Errorf("accept the passed face step: %v", err)
				}
			} else if p.Result == nil || p.Result.Failure == "" {
				t.Errorf("refused without a reason: %+v", p.Result)
			}
		})
	}
}

// previewOf serves cam's loopback preview on 127.0.0.1 until the test ends.
func previewOf(ctx context.Context, t *testing.T, cam *camera.Camera, cfg camera.Config) (*camera.Preview, *camera.PreviewServer) {
	t.Helper()
	pv, err := camera.NewPreview(cam, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := pv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return pv, srv
}
