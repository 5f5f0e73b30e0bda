// Package face is the kiosk's on-device face pipeline: detection, 68-point
// landmarks, live guidance, an active liveness challenge, face descriptors
// for verification (MobileFaceNet on ONNX Runtime by default, or dlib's
// ResNet), and the exam's ID photo (made and validated).
//
// # Engines and models
//
// NewEngine loads, once, from Config.ModelsDir: dlib's HOG frontal face
// detector and the 68-point shape predictor (driven directly through a
// small cgo wrapper, internal/dlib, on raw pixels: no JPEG round trip per
// frame), dlib's 5-point shape predictor, the recognition model
// (Config.RecognitionModel: an ONNX model run through device/face/ort on a
// 112×112 crop aligned onto the ArcFace template, align.go; or dlib's
// ResNet through go-face), and github.com/Kagami/go-face for, on photos
// only, its MMOD CNN detector as a fallback
// on images scaled to at most 640 px. go-face reads three fixed file names
// from one directory; a swapped model is exposed under those names through
// symlinks in a temporary directory while it loads. Any decoded image is
// accepted (YCbCr, RGBA, NRGBA, Gray, paletted …): frames are converted to
// packed RGB for dlib and to colour JPEG crops for go-face. NewEngine pins
// OpenBLAS to Config.BLASThreads (1) through openblas_set_num_threads found
// with dlsym, so OPENBLAS_NUM_THREADS need not be set before start.
//
// # Guidance
//
// Engine.Analyze returns a Guidance with stable Codes (no_face,
// multiple_faces, too_far, too_close, off_center, face_incomplete,
// head_turned, head_tilted, head_up_down, too_dark, too_bright,
// uneven_light, blurry, eyes_closed, mouth_open, occluded); the words a
// candidate reads are the UI's (frontend/src/i18n, problem.<code>). Every
// threshold is a field of Limits (LiveLimits for the camera, PhotoLimits for
// the ID photo, after ISO/IEC 19794-5 / ICAO 9303: yaw and pitch ±5°, roll
// ±8°, plus PoseTolerance for the error of a landmark-based pose); the
// liveness and photo constants are documented where they are declared.
//
// # Liveness
//
// A Liveness session asks for a random order of Steps different actions
// (blink, turn_left, turn_right, open_mouth), with at most Attempts tries,
// and accepts an action only as a response to its prompt: the face rests
// (frontal, eyes open, mouth closed) for 1 s, the prompt comes at a random
// moment 0–2 s later (the rest must come within StepTimeout), the action
// must start 0.2–1.7 s after the prompt and the face rest again within
// 3 s; a turn or mouth opening at any other moment, or one not asked for,
// fails the attempt (an involuntary blink only restarts the rest). A
// recording does its actions when it was recorded, so a looped clip of
// the candidate fails (RunTrials and `facecheck liveness` measure it). Its
// MotionDetector maps each frame's landmarks
// onto a reference frame by the best affine fit of the rigid points (jaw,
// brows, nose): a flat photo or screen moved, scaled, rotated or tilted in
// front of the camera moves its landmarks (almost) by such a map, so its
// eye and mouth openings stay constant and the fit's residual stays at
// landmark noise, while a real turn leaves a residual of 0.08–0.14
// inter-ocular distances; a blink must also close the eye against the
// eyebrow. On ../shared/faces/live/cap13_blink_turn the blink and the three
// turns are found at, or within two frames of, the annotated frames; the
// talking clip cap12 has no blink; pad/ photos and a portrait moved,
// scaled, rolled and tilted with perspective produce no event. Measured
// margins on those sequences: yaw 7.9° of the 9° needed, residual 0.075 of
// the 0.06 needed (so a turn needs both), lid ratio 0.83 of the 0.75 needed.
//
// # Verification and its thresholds
//
// Descriptors carry their model's id and kind; Distance refuses to compare
// descriptors of different models (ErrModelMismatch). The ONNX models'
// descriptors are L2-normalised and compared by cosine distance, dlib's by
// Euclidean distance. Each shipped model (LookupModel) comes with a false-
// accept curve calibrated by `facecheck calibrate` on East Asian faces
// (../shared/faces/eastasia); Engine.Threshold is the 1:1 threshold at
// Config.TargetFAR (or the Config.Thresholds override), and
// Engine.SearchThreshold(n) the 1:N threshold for a search among n stored
// faces, at per-comparison FAR TargetFAR / n. Capture fuses the descriptors
// of the FuseFrames best live frames. Figures: docs/BENCHMARKS.md.
//
// # ID photo
//
// MakeIDPhoto crops a frame around the face at 5:7 (default 360×504), levels
// the eyes, puts the head (crown estimated from the landmarks) at 68% of the
// height with the crown 9% below the top edge, and encodes a JPEG whose
// quality is searched so that its size lies between PhotoSpec.MinBytes and
// MaxBytes. ValidatePhoto applies the same PhotoSpec to any file and
// reports every rule it breaks (corrupt, not_jpeg, too_small, aspect,
// file_too_small/large, not_colour, background, head_size, eye_line and the
// face checks); VerifyPhoto compares the photo's face with the live
// descriptor and refuses a mismatch (face_mismatch).
package face
