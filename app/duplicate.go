package app

import (
	"context"
	"encoding/base64"
	"fmt"

	"examkiosk/app/registration"
	"examkiosk/device/face"
	"examkiosk/sync/wire"
)

// duplicateSearch looks for the live face among the registrations this
// kiosk holds under other ID numbers than the logged-in candidate's (DESIGN:
// one face, one identity). It searches at the recognition model's 1:N
// threshold for the number of faces held, so that an honest newcomer is
// falsely matched with probability at most face.target_far however many
// registrations the kiosk holds, and returns the closest match within it,
// or nil. A match never refuses the candidate: the registration is
// submitted marked "duplicate suspected" for staff and reviewers.
func (a *core) duplicateSearch(ctx context.Context, live face.Descriptor) *wire.DuplicateSuspect {
	a.mu.Lock()
	var idn string
	if a.journey.candidate != nil {
		idn = a.journey.candidate.IDNumber
	}
	a.mu.Unlock()
	recs, err := a.opts.Store.FaceRecords(ctx)
	if err != nil {
		a.log.Warn("duplicate search", "err", err)
		return nil
	}
	eng := a.opts.Face
	model := eng.Model()
	// N is the faces the search compares with: other people's registrations.
	n := 0
	for _, r := range recs {
		if r.IDNumber != idn {
			n++
		}
	}
	limit := eng.SearchThreshold(max(n, 1))
	var best *wire.DuplicateSuspect
	skipped := 0
	for _, r := range recs {
		if r.IDNumber == idn {
			continue
		}
		stored := r.Model
		if stored == "" {
			stored = face.StockRecognitionModel // made before the kiosk recorded it
		}
		for _, d := range r.Descriptors {
			// A registration made with another recognition model cannot
			// be compared: it is skipped (and counted in the log line).
			other := face.Descriptor{Model: stored, Kind: model.Kind, Vec: d}
			if !eng.Comparable(other) {
				skipped++
				break
			}
			dist, err := face.Distance(live, other)
			if err != nil || dist > limit || (best != nil && dist >= best.Distance) {
				continue
			}
			best = &wire.DuplicateSuspect{RegistrationID: r.ID, Distance: dist, Threshold: limit, Model: model.ID}
		}
	}
	if skipped > 0 {
		a.log.Warn("duplicate search: skipped registrations made with another recognition model", "count", skipped, "loaded", model.ID)
	}
	if best != nil {
		a.log.Warn("duplicate suspected: the live face matches a registration under another ID number",
			"matched", best.RegistrationID, "distance", best.Distance, "threshold", best.Threshold, "searched", n)
		a.audit("duplicate_suspected", best.RegistrationID, fmt.Sprintf("distance %.3f <= %.3f over %d", best.Distance, best.Threshold, n))
	}
	return best
}

// DuplicateCase is one "duplicate suspected" registration as the staff
// console shows it: both registrations side by side with their photos.
type DuplicateCase struct {
	Suspect   DuplicateSide `json:"suspect"`
	Matched   DuplicateSide `json:"matched"`
	Distance  float64       `json:"distance"`
	Threshold float64       `json:"threshold"`
	Model     string        `json:"model"`
	Review    string        `json:"review"` // "", cleared, confirmed
}

// DuplicateSide is one of the two registrations of a DuplicateCase.
type DuplicateSide struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	IDNumber string `json:"idNumber"`
	ExamID   string `json:"examId"`
	Status   string `json:"status"`
	Photo    string `json:"photo"` // data URL; "" when purged or not on this kiosk
}

// StaffDuplicates lists the registrations marked "duplicate suspected" on
// this kiosk, newest first, each beside the registration it matched;
// pending limits it to those not decided yet.
func (a *StaffService) StaffDuplicates(pending bool) ([]DuplicateCase, error) {
	if err := a.staffCheck(); err != nil {
		return nil, err
	}
	ctx := a.context()
	regs, err := a.opts.Store.DuplicateSuspects(ctx, pending)
	if err != nil {
		return nil, err
	}
	out := []DuplicateCase{}
	for _, r := range regs {
		c := DuplicateCase{
			Suspect:  DuplicateSide{ID: r.ID, Name: r.Name, IDNumber: r.IDNumber, ExamID: r.ExamID, Status: string(r.Status), Photo: dataURL(r.Photo)},
			Matched:  DuplicateSide{ID: r.Duplicate.RegistrationID},
			Distance: r.Duplicate.Distance, Threshold: r.Duplicate.Threshold, Model: r.Duplicate.Model, Review: r.DuplicateReview,
		}
		if m, err := a.opts.Store.Get(ctx, r.Duplicate.RegistrationID); err == nil {
			c.Matched = DuplicateSide{ID: m.ID, Name: m.Name, IDNumber: m.IDNumber, ExamID: m.ExamID, Status: string(m.Status), Photo: dataURL(m.Photo)}
		}
		out = append(out, c)
	}
	return out, nil
}

// StaffReviewDuplicate records a member of staff's decision on a
// "duplicate suspected" registration: "cleared" (two different people) or
// "confirmed" (one person under two ID numbers). It is audited.
func (a *StaffService) StaffReviewDuplicate(id, decision string) error {
	if err := a.staffCheck(); err != nil {
		return err
	}
	if decision != registration.DuplicateCleared && decision != registration.DuplicateConfirmed {
		return refuse("duplicate_decision")
	}
	if _, err := a.opts.Store.ReviewDuplicate(a.context(), id, decision); err != nil {
		a.log.Warn("staff: review duplicate", "registration", id, "err", err)
		return refuse("duplicate_save_failed").because(err)
	}
	a.log.Info("staff: duplicate reviewed", "registration", id, "decision", decision)
	return nil
}

func dataURL(jpeg []byte) string {
	if len(jpeg) == 0 {
		return ""
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(jpeg)
}
