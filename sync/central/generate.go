package central

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"examkiosk/idnumber"
	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// GeneratedDevice is the device id of generated registrations.
const GeneratedDevice = "kiosk-generated"

// Generate writes n synthetic registrations to the demo exam through the
// same records, index and blind index as ingest (for load tests and the
// 1,000,000-registration benchmarks; `central generate`), in transactions
// of chunk registrations, calling progress after each. Their revisions
// hold the document without a photo (a million 40 KB photos are 40 GB),
// their device is GeneratedDevice, and their statuses are a season's mix:
// 40 % under review, 30 % approved, 20 % paid, 10 % rejected, received one
// millisecond apart before now. Their ID numbers are valid and distinct
// for up to 14 million registrations (a day of birth from 1950 on and a
// sequence number).
func (s *Server) Generate(n, chunk int, progress func(done int)) error {
	if chunk < 1 {
		chunk = 5000
	}
	start := s.now().Add(-time.Duration(n) * time.Millisecond)
	born := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	for done := 0; done < n; {
		m := min(chunk, n-done)
		recs := make([]regRecord, m)
		revs := make([][]byte, m)
		ids := make([][]byte, m)
		for j := range recs {
			i := done + j
			id, err := uuid.NewV7()
			if err != nil {
				return err
			}
			first17 := "110101" + born.AddDate(0, 0, i/1000).Format("20060102") + fmt.Sprintf("%03d", i%1000)
			check, _ := idnumber.CheckDigit(first17)
			at := start.Add(time.Duration(i) * time.Millisecond)
			reg := wire.Registration{ID: id.String(), Revision: 1, DeviceID: GeneratedDevice,
				Name: fmt.Sprintf("生成考生%07d", i), IDNumber: first17 + string(check), Phone: "13800000000",
				Education: "本科", ExamID: DemoExamID, PositionID: "P003", IdentitySource: "alipay_qr",
				LivenessPassed: true, SubmittedAt: at}
			rec := regRecord{Registration: Registration{ID: reg.ID, Revision: 1, DeviceID: GeneratedDevice,
				CentreID: DemoCentreID, Name: reg.Name, IDNumber: reg.IDNumber, ExamID: reg.ExamID,
				PositionID: reg.PositionID, Source: reg.IdentitySource, SubmittedAt: at, ReceivedAt: at}, UpdatedAt: at}
			switch i % 10 {
			case 0, 1, 2, 3:
				rec.Status = StatusUnderReview
			case 4, 5, 6:
				rec.Status = StatusApproved
			case 7, 8:
				rec.Status = StatusPaid
			default:
				rec.Status, rec.Reason = StatusRejected, "照片不符合要求 / photo does not meet the rules"
			}
			doc, err := json.Marshal(reg)
			if err != nil {
				return err
			}
			h := sha256.Sum256(doc)
			recs[j], revs[j], ids[j] = rec, append(h[:], doc...), []byte(rec.ID)
		}
		err := s.db.Update(func(tx store.Tx) error {
			if err := tx.Bucket(bRegPos).Prefetch(ids...); err != nil {
				return err
			}
			for j, rec := range recs {
				if err := s.storeRevision(tx, rec.ID, 1, revs[j]); err != nil {
					return err
				}
				if err := s.setCandidateReg(tx, rec.IDNumber, rec.ExamID, rec.ID); err != nil {
					return err
				}
				if err := s.storeReg(tx, rec); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("generate registrations %d–%d: %w", done, done+m, err)
		}
		done += m
		if progress != nil {
			progress(done)
		}
	}
	return nil
}
