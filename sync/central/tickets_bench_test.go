package central_test

import (
	"fmt"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/testbed"
)

// BenchmarkAssignTickets seats 2000 paid candidates of one exam in 40
// rooms of 50 in one round (the first round also queues the registrations
// paid before; both stores): the time one maintenance round takes when an
// exam's ticket window opens.
func BenchmarkAssignTickets(b *testing.B) {
	const n = 2000
	plan := ticketPlan(time.Now().Add(-time.Hour))
	site := &plan.Exams[0].Sites[0]
	site.Rooms = nil
	for r := range n / 50 {
		site.Rooms = append(site.Rooms, central.ExamRoom{ID: fmt.Sprintf("r%02d", r), Capacity: 50})
	}
	plan.Exams[0].Sites = plan.Exams[0].Sites[:1]
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				cfg := central.DefaultConfig()
				testbed.UseStore(b, &cfg, kind)
				c := testbed.StartCentral(b, cfg, central.WithTicketPlan(plan))
				for i := range n {
					r := central.Registration{ID: testbed.RegNum(i), Revision: 1, DeviceID: "kiosk-bench", ExamID: central.DemoExamID,
						PositionID: "P001", Name: "考生", IDNumber: testbed.IDNumber(i), Status: central.StatusPaid}
					if err := c.Server().PutRegistrationRecord(r); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				got, err := c.Server().AssignTickets()
				if err != nil || got != n {
					b.Fatalf("%d tickets (%v), want %d", got, err, n)
				}
				b.StopTimer()
				c.Stop()
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "tickets/op")
		})
	}
}
