package app

import (
	"errors"
	"testing"
	"time"
)

func TestJourneyMoves(t *testing.T) {
	cand := &Candidate{Name: "张三", IDNumber: "11010519491231002X"}
	passed := &FaceOutcome{LivenessPassed: true, Descriptors: [][]float32{make([]float32, 128)}, Photo: []byte{1}, Match: true}
	tests := []struct {
		name  string
		setup func(j *Journey)
		to    Step
		ok    bool
	}{
		{"welcome to login", func(j *Journey) {}, StepLogin, true},
		{"welcome cannot skip to the form", func(j *Journey) {}, StepForm, false},
		{"login needs a candidate for face", func(j *Journey) { j.step = StepLogin }, StepFace, false},
		{"login to face", func(j *Journey) { j.step, j.candidate = StepLogin, cand }, StepFace, true},
		{"login to status", func(j *Journey) { j.step, j.candidate = StepLogin, cand }, StepStatus, true},
		{"password step needs a ticket", func(j *Journey) { j.step, j.candidate = StepLogin, cand }, StepPassword, false},
		{"login to password", func(j *Journey) { j.step, j.candidate, j.passwordTicket = StepLogin, cand, "t" }, StepPassword, true},
		{"password to face", func(j *Journey) { j.step, j.candidate = StepPassword, cand }, StepFace, true},
		{"password to status", func(j *Journey) { j.step, j.candidate = StepPassword, cand }, StepStatus, true},
		{"password cannot skip to the form", func(j *Journey) { j.step, j.candidate, j.face = StepPassword, cand, passed }, StepForm, false},
		{"photo needs a passed liveness", func(j *Journey) {
			j.step, j.candidate, j.face = StepFace, cand, &FaceOutcome{Descriptors: passed.Descriptors}
		}, StepPhoto, false},
		{"face to photo", func(j *Journey) { j.step, j.candidate, j.face = StepFace, cand, passed }, StepPhoto, true},
		{"form needs a matching photo", func(j *Journey) {
			j.step, j.candidate, j.face = StepPhoto, cand, &FaceOutcome{LivenessPassed: true, Photo: []byte{1}, Match: false}
		}, StepForm, false},
		{"photo to form", func(j *Journey) { j.step, j.candidate, j.face = StepPhoto, cand, passed }, StepForm, true},
		{"review needs a form", func(j *Journey) { j.step, j.candidate, j.face = StepForm, cand, passed }, StepReview, false},
		{"receipt needs a submission", func(j *Journey) { j.step, j.candidate = StepReview, cand }, StepReceipt, false},
		{"receipt cannot go back to review", func(j *Journey) { j.step = StepReceipt }, StepReview, false},
		{"anything to welcome", func(j *Journey) { j.step, j.candidate = StepForm, cand }, StepWelcome, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var j Journey
			tt.setup(&j)
			err := j.Go(tt.to)
			var se *StepError
			switch {
			case tt.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tt.ok && !errors.As(err, &se):
				t.Fatalf("got %v, want a *StepError", err)
			case tt.ok && j.Step() != tt.to:
				t.Fatalf("at %s, want %s", j.Step(), tt.to)
			}
		})
	}
}

func TestJourneyWelcomeForgetsEverything(t *testing.T) {
	j := Journey{step: StepPassword, candidate: &Candidate{Name: "张三"}, face: &FaceOutcome{Photo: []byte{1}}, passwordTicket: "t"}
	if err := j.Go(StepWelcome); err != nil {
		t.Fatal(err)
	}
	if j.candidate != nil || j.face != nil || j.passwordTicket != "" || j.Step() != StepWelcome {
		t.Fatalf("personal data kept after returning to welcome: %+v", j)
	}
}

func TestJourneyFaceStartsAfresh(t *testing.T) {
	j := Journey{step: StepPhoto, candidate: &Candidate{}, face: &FaceOutcome{LivenessPassed: true, Match: true}}
	if err := j.Go(StepFace); err != nil {
		t.Fatal(err)
	}
	if j.face != nil {
		t.Fatal("a retake must not keep the previous face outcome")
	}
}

func TestJourneyPasswordStepDropsTicket(t *testing.T) {
	j := Journey{step: StepPassword, candidate: &Candidate{}, passwordTicket: "t"}
	if err := j.Go(StepFace); err != nil {
		t.Fatal(err)
	}
	if j.passwordTicket != "" {
		t.Fatal("the ticket must not outlive the password step")
	}
}

func TestJourneyIdle(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var j Journey
	j.Touch(now)
	if j.Idle(now.Add(time.Hour), time.Minute) {
		t.Fatal("the welcome screen is never idle")
	}
	j.step = StepForm
	if j.Idle(now.Add(30*time.Second), time.Minute) || !j.Idle(now.Add(61*time.Second), time.Minute) {
		t.Fatal("idle after the timeout only")
	}
}
