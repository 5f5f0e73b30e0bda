package face_test

import (
	"context"
	"image"
	"log/slog"
	"time"

	"examkiosk/device/face"
)

// Example shows the candidate's face journey as the app wires it: live
// guidance on every frame, the liveness challenge, capture of the best
// frames, the ID photo made from the best one and compared with the live
// face.
func Example() {
	eng, err := face.NewEngine(face.DefaultConfig(), slog.Default())
	if err != nil {
		return
	}
	defer eng.Close()
	live, _ := eng.NewLiveness()
	capture := eng.NewCapture()
	var frames <-chan image.Image // from device/camera
	for frame := range frames {
		g, err := eng.Analyze(frame)
		if err != nil {
			return
		}
		// Show the words of g.Problems[0].Code until g.OK.
		st := live.Observe(g, time.Now()) // show the prompt of st.Action, st.Remaining
		capture.Add(frame, g)
		if st.State != face.LivenessRunning {
			break
		}
	}
	if live.State() != face.LivenessPassed || capture.Len() == 0 {
		return // refuse: 活体检测未通过
	}
	ctx := context.Background()
	desc, _ := capture.Descriptor(ctx)
	photo, report, _ := eng.MakeIDPhoto(ctx, capture.Best(), eng.Config().Photo)
	if !report.OK {
		return // show report.Problems
	}
	v, _ := eng.VerifyPhoto(ctx, desc, photo)
	_ = v.Match // store photo, v.Distance, liveness result in the registration
}
