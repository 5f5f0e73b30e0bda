package central

import (
	"fmt"
	"time"

	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// Demo data created by SeedDemo.
const (
	DemoCentreID      = "demo-centre"
	DemoCentreName    = "省人事考试中心示范考点（本机演示）"
	DemoEnrolmentCode = "DEMO"
	DemoExamID        = "demo-exam-2026"
)

// SeedDemo creates, if absent, the demo test centre, an exam open for
// registration with three positions, and the enrolment code DEMO that only
// loopback clients may use, for one enrolment. Running it again changes
// nothing but making DEMO usable once more.
func (s *Server) SeedDemo() error {
	now := s.now()
	err := s.db.Update(func(tx store.Tx) error {
		if tx.Bucket(bCentres).Get([]byte(DemoCentreID)) == nil {
			c := wire.Centre{ID: DemoCentreID, Name: DemoCentreName, Address: "127.0.0.1"}
			if err := putJSON(tx.Bucket(bCentres), c.ID, c); err != nil {
				return err
			}
		}
		// DEMO enrols one device, once, per start of the demo central.
		code := codeRecord{Code: DemoEnrolmentCode, CentreID: DemoCentreID, LoopbackOnly: true}
		if err := putJSON(tx.Bucket(bCodes), code.Code, code); err != nil {
			return err
		}
		cat, err := loadCatalog(tx)
		if err != nil {
			return err
		}
		if len(cat.Exams) > 0 {
			return nil
		}
		day := now.Truncate(24 * time.Hour)
		cat = &wire.Catalog{Version: cat.Version + 1, Exams: []wire.Exam{{
			ID: DemoExamID, Name: "2026年度事业单位公开招聘工作人员考试（演示）",
			RegisterFrom: day.AddDate(0, 0, -1), RegisterUntil: day.AddDate(0, 0, 30), PayUntil: day.AddDate(0, 0, 33),
			FeeCents: 10000,
			Positions: []wire.Position{
				{ID: "P001", Name: "综合管理岗", Employer: "市人力资源和社会保障局", Quota: 2},
				{ID: "P002", Name: "财务会计岗", Employer: "市财政局", Quota: 1},
				{ID: "P003", Name: "信息技术岗", Employer: "市大数据中心", Quota: 3},
			},
		}}}
		return putJSON(tx.Bucket(bMeta), string(kCatalog), cat)
	})
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	return nil
}
