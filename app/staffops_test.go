package app

import (
	"testing"
	"time"
)

func TestStaffRescanAndRestart(t *testing.T) {
	cam := replayCamera(t)
	quit := make(chan struct{})
	a := testApp(t, Options{Camera: cam, Quit: func() { close(quit) }})
	a.opts.Config.Kiosk.StaffPINHash = mustHashPIN(t, "246810")
	if err := a.StaffRescanCameras(); err == nil {
		t.Fatal("rescan needs an open staff session")
	}
	if err := a.StaffRestart(); err == nil || RestartRequested(a) {
		t.Fatal("restart needs an open staff session")
	}
	if err := a.StaffLogin("246810"); err != nil {
		t.Fatal(err)
	}
	before := cam.Stats().Reconnects
	if err := a.StaffRescanCameras(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for cam.Stats().Reconnects == before || cam.Status().State != "ok" {
		if time.Now().After(deadline) {
			t.Fatalf("the camera was not reopened after the rescan: %+v", cam.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := a.StaffRestart(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-quit:
	case <-time.After(3 * time.Second):
		t.Fatal("restart did not close the window")
	}
	if !RestartRequested(a) {
		t.Fatal("main would not start the kiosk again")
	}
}
