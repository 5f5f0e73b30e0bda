package kiosk_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// The app wires a Client like this: enrol once (persisting the identity),
// then run the sync loop, report connectivity and nudge it after each
// submission. Here a demo central runs on loopback (cmd/central -demo),
// and the outbox and sink are in memory where the app uses app/store's
// *Store.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	centralURL, stop := demoCentral()
	defer stop()

	cfg := kiosk.DefaultConfig() // from the [sync] table
	cfg.CentralURL = centralURL
	cfg.EnrolmentCode = "DEMO" // the demo central's code, from loopback, once per start

	outbox, sink := newMemOutbox(), &memSink{}
	var saved *kiosk.Identity // loaded from the store; nil before enrolment
	if saved == nil {
		id, err := kiosk.Enroll(ctx, cfg, cfg.EnrolmentCode, "kiosk-01", "0.1.0", nil)
		if err != nil {
			log.Fatal(err) // show "请联系考点工作人员注册本机" and retry later
		}
		saved = &id // persist: device id + private key (sealed), centre, seal key
		fmt.Println("enrolled in centre", id.Centre.ID)
	}
	rounds := make(chan kiosk.State, 16)
	c, err := kiosk.New(cfg, *saved, outbox, sink, kiosk.Options{
		Logger: testbed.Quiet(),
		Health: func(context.Context) wire.Health {
			free, _ := kiosk.DiskFree("/")
			return wire.Health{Camera: "ok", DiskFreeBytes: free, Version: "0.1.0"}
		},
		OnState: func(s kiosk.State) { // the app emits a "sync:state" event to the UI
			if !s.Syncing {
				select {
				case rounds <- s:
				default:
				}
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	go c.Run(ctx)
	go kiosk.WatchInterfaces(ctx, 2*time.Second, c.SetOnline)

	// A candidate submits (store.Submit queues it), then the app calls
	// c.SyncNow(); so does the staff console's "sync now".
	reg := testbed.Registration(testbed.RegNum(1), 1, saved.DeviceID, testbed.IDNumber(1), testbed.Photo(300, 420, 60, 1))
	outbox.Add(reg.ID, reg.Revision, reg.IDNumber, testbed.Doc(reg))
	c.SyncNow()
	for {
		select {
		case st := <-rounds:
			if q, _, _ := outbox.Depth(ctx); q == 0 && st.LastError == "" {
				fmt.Println("delivered, queue empty, online:", st.Online)
			} else {
				continue
			}
		case <-time.After(10 * time.Second):
			log.Fatal("not delivered")
		}
		break
	}

	// QR login: show the QR, long-poll until confirmed or expired.
	s, err := c.StartQRLogin(ctx, wire.ChannelAlipay)
	if err != nil {
		return // offline: offer the typed ID number + name path
	}
	png, _ := kiosk.QRCodePNG(s.URL, 320)
	fmt.Println("QR image:", len(png) > 0, "state:", s.State)
	go func() { // the candidate's phone scans the QR and confirms
		(&testbed.Central{URL: centralURL}).ConfirmQR(ctx, s.URL, "张三", testbed.IDNumber(7))
	}()
	for s.State == wire.QRWaiting || s.State == wire.QRScanned {
		if s, err = c.PollQRLogin(ctx, s.ID, s.State); err != nil {
			log.Fatal(err)
		}
	}
	if s.State == wire.QRConfirmed {
		fmt.Println("logged in:", s.Identity.Name, s.Identity.IDNumber == testbed.IDNumber(7))
	}
	// Output:
	// enrolled in centre demo-centre
	// delivered, queue empty, online: true
	// QR image: true state: waiting
	// logged in: 张三 true
}

// demoCentral serves a demo central on 127.0.0.1 from a temporary data
// directory, as cmd/central -demo does.
func demoCentral() (url string, stop func()) {
	dir, err := os.MkdirTemp("", "central-example-")
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	cfg := central.DefaultConfig()
	cfg.DataDir, cfg.Demo = dir, true
	cfg.PublicURL = "http://" + ln.Addr().String()
	s, err := central.Open(cfg, central.WithLogger(testbed.Quiet()))
	if err != nil {
		log.Fatal(err)
	}
	srv := cfg.NewHTTPServer(s.Handler())
	go srv.Serve(ln)
	return cfg.PublicURL, func() {
		srv.Close()
		s.Close()
		os.RemoveAll(dir)
	}
}
