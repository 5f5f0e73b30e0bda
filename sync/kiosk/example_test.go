package kiosk_test

import (
	"context"
	"log"
	"time"

	"examkiosk/sync/kiosk"
	"examkiosk/sync/wire"
)

// The app wires a Client like this: enrol once (persisting the identity),
// then run the sync loop, report connectivity and nudge it after each
// submission. outbox and sink are app/store's *Store.
func Example() {
	ctx := context.Background()
	cfg := kiosk.DefaultConfig() // from the [sync] table
	cfg.EnrolmentCode = "DEMO"   // demo central on loopback

	var outbox wire.Outbox
	var sink wire.Sink
	var saved *kiosk.Identity // loaded from the store; nil before enrolment
	if saved == nil {
		id, err := kiosk.Enroll(ctx, cfg, cfg.EnrolmentCode, "kiosk-01", "0.1.0", nil)
		if err != nil {
			log.Fatal(err) // show "请联系考点工作人员注册本机" and retry later
		}
		saved = &id // persist: device id + private key (sealed), centre, seal key
	}
	c, err := kiosk.New(cfg, *saved, outbox, sink, kiosk.Options{
		Health: func(context.Context) wire.Health {
			free, _ := kiosk.DiskFree("/")
			return wire.Health{Camera: "ok", DiskFreeBytes: free, Version: "0.1.0"}
		},
		OnState: func(s kiosk.State) { /* emit a "sync:state" event to the UI */ },
	})
	if err != nil {
		log.Fatal(err)
	}
	go c.Run(ctx)
	go kiosk.WatchInterfaces(ctx, 2*time.Second, c.SetOnline)
	// After store.Submit: c.SyncNow(). Staff console "sync now": c.SyncNow().

	// QR login: show the QR, long-poll until confirmed or expired.
	s, err := c.StartQRLogin(ctx, wire.ChannelAlipay)
	if err != nil {
		return // offline: offer the typed ID number + name path
	}
	png, _ := kiosk.QRCodePNG(s.URL, 320)
	_ = png
	for s.State == wire.QRWaiting || s.State == wire.QRScanned {
		if s, err = c.PollQRLogin(ctx, s.ID, s.State); err != nil {
			return
		}
	}
	if s.State == wire.QRConfirmed {
		_ = s.Identity // name, ID number, source
	}
}
