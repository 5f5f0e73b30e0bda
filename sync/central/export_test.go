package central

import "examkiosk/sync/central/store"

// Test hooks for the external test package.

// CaptchaAnswer returns the answer of a live captcha (the tests read it
// instead of solving the image).
func (s *Server) CaptchaAnswer(id string) string {
	var c captchaEntry
	s.db.View(func(tx store.Tx) error { _, err := s.getEphemeral(tx, bCaptchas, id, &c); return err })
	return c.Answer
}

// PutRegistrationRecord stores a registration record as it is, bypassing
// ingest (a record an older central let in).
func (s *Server) PutRegistrationRecord(r Registration) error {
	return s.db.Update(func(tx store.Tx) error { return s.storeReg(tx, regRecord{Registration: r}) })
}

// RenderCaptcha exposes the captcha renderer, with (distort) and without
// its distortions.
func RenderCaptcha(digits string, distort bool) ([]byte, error) {
	return renderCaptchaOpts(digits, distort)
}

// DigitFont exposes the bitmap font an attacker would template-match.
func DigitFont() [10][7]string { return digitFont }

// WithStoreWrapper wraps the server's store (a test watching what the
// server asks of it).
func WithStoreWrapper(wrap func(store.DB) store.DB) Option {
	return func(s *Server) { s.db = wrap(s.db) }
}
