package app

import (
	"strings"
	"testing"
	"time"
)

func TestStaffConsole(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := testApp(t, Options{Now: clock})
	a.opts.Config.Kiosk.StaffPINHash = mustHashPIN(t, "246810")

	if _, err := a.StaffOverview(); err == nil || !strings.Contains(err.Error(), "工作人员密码") {
		t.Fatalf("the console must ask for the PIN first, got %v", err)
	}
	for i := 0; i < staffMaxTries; i++ {
		if err := a.StaffLogin("000000"); err == nil || !strings.Contains(err.Error(), "密码错误") {
			t.Fatalf("wrong PIN %d: got %v", i, err)
		}
	}
	if err := a.StaffLogin("246810"); err == nil || !strings.Contains(err.Error(), "错误次数过多") {
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
	if err := a.StaffSyncNow(); err == nil || !strings.Contains(err.Error(), "登记码") {
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
	if err := a.StaffLogin(""); err == nil || !strings.Contains(err.Error(), "kiosk.staff_pin_hash") {
		t.Fatalf("no PIN configured: got %v", err)
	}
}
