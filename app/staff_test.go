package app

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestStaffConsole(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := testApp(t, Options{Now: clock})
	a.opts.Config.Kiosk.StaffPINHash = mustHashPIN(t, "246810")

	if _, err := a.StaffOverview(); code(err) != "pin_first" {
		t.Fatalf("the console must ask for the PIN first, got %v", err)
	}
	for i := 1; i < staffMaxTries; i++ {
		err := a.StaffLogin("000000")
		if code(err) != "wrong_pin" || err.(*Refusal).Args["left"] != fmt.Sprint(staffMaxTries-i) {
			t.Fatalf("wrong PIN %d must say how many tries are left: got %v", i, err)
		}
	}
	if err := a.StaffLogin("000000"); code(err) != "pin_locked" {
		t.Fatalf("the last wrong PIN locks the console, got %v", err)
	}
	if err := a.StaffLogin("246810"); code(err) != "pin_locked" {
		t.Fatalf("after %d wrong PINs the console locks, got %v", staffMaxTries, err)
	}
	now = now.Add(staffLockout + time.Second)
	if err := a.StaffLogin("246810"); err != nil {
		t.Fatalf("after the lockout the right PIN opens it: %v", err)
	}
	o, err := a.StaffOverview()
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Status.Items) != 5 || o.Sync != nil || o.Queue == nil || o.Quarantine == nil {
		t.Fatalf("overview: %+v", o)
	}
	if err := a.StaffSyncNow(); code(err) != "not_enrolled_staff" {
		t.Fatalf("sync now without enrolment must say how to enrol, got %v", err)
	}
	if err := a.StaffRequeue(424242); err == nil {
		t.Fatal("requeue of an unknown item must fail")
	}
	if r, err := a.StaffVerify(); err != nil || r.Registrations != 0 {
		t.Fatalf("verify: %+v %v", r, err)
	}
	if n, err := a.StaffPurge(); err != nil || n != 0 {
		t.Fatalf("purge: %d %v", n, err)
	}
	now = now.Add(staffSessionIdle + time.Second)
	if _, err := a.StaffOverview(); err == nil {
		t.Fatal("the staff session must end after being idle")
	}
	if err := a.StaffLogin("246810"); err != nil {
		t.Fatal(err)
	}
	a.StaffLogout()
	if _, err := a.StaffOverview(); err == nil {
		t.Fatal("logout must close the console")
	}
}

func TestStaffConsoleWithoutPIN(t *testing.T) {
	a := testApp(t, Options{})
	if err := a.StaffLogin(""); code(err) != "no_staff_pin" {
		t.Fatalf("no PIN configured: got %v", err)
	}
}

// code returns the code of a refusal ("" for nil or another error).
func code(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}
