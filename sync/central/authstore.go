package central

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// The state of people's access to the central: candidate accounts,
// reviewer accounts, their login sessions, login throttles and the audit
// log. Every read and write
// of it goes through the methods in this file.

var (
	bReviewers = []byte("reviewers")
	bSessions  = []byte("sessions")
	bThrottle  = []byte("throttle")
	bAudit     = []byte("audit")
	bCaptchas  = []byte("captchas")
	bTickets   = []byte("password_tickets")
	bQR        = []byte("qr_sessions")
	bQRTokens  = []byte("qr_tokens")
	bAttempts  = []byte("attempts")

	kFormSecret = []byte("form_secret")
)

// reviewerRecord is a named staff account.
type reviewerRecord struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"` // RoleReviewer or RoleAdmin
	Hash      string    `json:"hash"` // argon2id, PHC string
	CreatedAt time.Time `json:"created_at"`
	Disabled  bool      `json:"disabled,omitempty"`
}

// sessionRecord is a reviewer's login session, keyed by the SHA-256 of the
// cookie value (a copy of the store holds no usable session).
type sessionRecord struct {
	Reviewer  string    `json:"reviewer"`
	Role      string    `json:"role"`
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// throttleRecord counts recent failures of one key (an ID number, a device,
// a reviewer name) and the lockout they earned.
type throttleRecord struct {
	Failures    int       `json:"failures"`
	LastFailure time.Time `json:"last_failure"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// AuditEntry is one decision or security event, with who made it.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // reviewer name, "admin-token", "demo", "provider:alipay", "device:<id>"
	Action string    `json:"action"` // approve, reject, paid, revoke, login, login_failed, …
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Remote string    `json:"remote,omitempty"`
}

// auditEntry is an AuditEntry whose time the store sets.
type auditEntry = AuditEntry

func sessionKey(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return []byte(hex.EncodeToString(h[:]))
}

// Candidate accounts are sealed at rest like registrations: the key is a
// blind index of the ID number, the value (name, ID number, password hash)
// is sealed with the data key.

// loadAccount reads an account in tx (errNotFound when none).
func (s *Server) loadAccount(tx store.Tx, idn string) (accountRecord, error) {
	var acc accountRecord
	k := s.keys.accountKey(idn)
	v := tx.Bucket(bAccounts).Get(k)
	if v == nil {
		return acc, errNotFound
	}
	plain, err := s.keys.box.Open(bAccounts, k, v)
	if err != nil {
		return acc, err
	}
	return acc, json.Unmarshal(plain, &acc)
}

// getAccount returns a candidate account (errNotFound when none).
func (s *Server) getAccount(idn string) (accountRecord, error) {
	var acc accountRecord
	err := s.db.View(func(tx store.Tx) (err error) { acc, err = s.loadAccount(tx, idn); return err })
	return acc, err
}

// setAccountPassword sets (or resets) the password hash of a verified
// identity's account and audits it with the actor.
func (s *Server) setAccountPassword(id wire.Identity, hash []byte, actor string) error {
	return s.db.Update(func(tx store.Tx) error {
		acc, err := s.loadAccount(tx, id.IDNumber)
		if err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		reset := err == nil && len(acc.Hash) > 0
		created := acc.CreatedAt
		if created.IsZero() {
			created = s.now()
		}
		action := "password_set"
		if reset {
			action = "password_reset"
		}
		if err := s.audit(tx, auditEntry{Actor: actor, Action: action, Target: maskID(id.IDNumber), Detail: "verified by " + id.Source}); err != nil {
			return err
		}
		data, err := json.Marshal(accountRecord{IDNumber: id.IDNumber, Name: id.Name, Hash: hash, CreatedAt: created})
		if err != nil {
			return err
		}
		k := s.keys.accountKey(id.IDNumber)
		return tx.Bucket(bAccounts).Put(k, s.keys.box.Seal(bAccounts, k, data))
	})
}

func (s *Server) putReviewer(r reviewerRecord) error {
	return s.db.Update(func(tx store.Tx) error { return putJSON(tx.Bucket(bReviewers), r.Name, r) })
}

func (s *Server) getReviewer(name string) (reviewerRecord, error) {
	var r reviewerRecord
	err := s.db.View(func(tx store.Tx) error { return getJSON(tx.Bucket(bReviewers), name, &r) })
	return r, err
}

func (s *Server) putSession(id string, rec sessionRecord) error {
	return s.db.Update(func(tx store.Tx) error { return putJSON(tx.Bucket(bSessions), string(sessionKey(id)), rec) })
}

func (s *Server) getSession(id string) (sessionRecord, error) {
	var rec sessionRecord
	err := s.db.View(func(tx store.Tx) error { return getJSON(tx.Bucket(bSessions), string(sessionKey(id)), &rec) })
	return rec, err
}

func (s *Server) deleteSession(id string) error {
	return s.db.Update(func(tx store.Tx) error { return tx.Bucket(bSessions).Delete(sessionKey(id)) })
}

// pruneAuthState drops expired sessions, captchas, password tickets, QR
// sessions and attempt windows,
// and throttles quiet for a day.
func (s *Server) pruneAuthState() (int, error) {
	now := s.now()
	n := 0
	err := s.db.Update(func(tx store.Tx) error {
		n = 0
		var gone []string
		if err := tx.Bucket(bSessions).ForEach(func(k, v []byte) error {
			var rec sessionRecord
			if json.Unmarshal(v, &rec) != nil || now.After(rec.ExpiresAt) {
				gone = append(gone, string(k))
			}
			return nil
		}); err != nil {
			return err
		}
		if err := deleteKeys(tx.Bucket(bSessions), gone); err != nil {
			return err
		}
		n += len(gone)
		gone = gone[:0]
		if err := tx.Bucket(bThrottle).ForEach(func(k, v []byte) error {
			var rec throttleRecord
			if json.Unmarshal(v, &rec) != nil || (now.Sub(rec.LastFailure) > 24*time.Hour && now.After(rec.LockedUntil)) {
				gone = append(gone, string(k))
			}
			return nil
		}); err != nil {
			return err
		}
		n += len(gone)
		if err := deleteKeys(tx.Bucket(bThrottle), gone); err != nil {
			return err
		}
		c, err := s.pruneEphemeral(tx, bCaptchas, func() expiring { return &captchaEntry{} }, now)
		if err != nil {
			return err
		}
		t, err := s.pruneEphemeral(tx, bTickets, func() expiring { return &passwordTicket{} }, now)
		if err != nil {
			return err
		}
		q, err := s.pruneEphemeral(tx, bQR, func() expiring { return &qrSession{} }, now)
		if err != nil {
			return err
		}
		e, err := s.pruneEphemeral(tx, bAttempts, func() expiring { return &attemptWindow{} }, now)
		n += c + t + q + e
		if err != nil {
			return err
		}
		// Token index entries of pruned sessions.
		gone = gone[:0]
		if err := tx.Bucket(bQRTokens).ForEach(func(k, v []byte) error {
			if tx.Bucket(bQR).Get(v) == nil {
				gone = append(gone, string(k))
			}
			return nil
		}); err != nil {
			return err
		}
		return deleteKeys(tx.Bucket(bQRTokens), gone)
	})
	return n, err
}

// expiring is a short-lived record sealed in a bucket of its own
// (captchas, password tickets).
type expiring interface{ expiry() time.Time }

func (c captchaEntry) expiry() time.Time   { return c.Expires }
func (t passwordTicket) expiry() time.Time { return t.Expires }

var _ expiring = qrSession{}

// putEphemeral seals v under key in bucket b.
func (s *Server) putEphemeral(b []byte, key string, v expiring) error {
	return s.db.Update(func(tx store.Tx) error { return s.putEphemeralTx(tx, b, key, v) })
}

// putEphemeralTx is putEphemeral within tx.
func (s *Server) putEphemeralTx(tx store.Tx, b []byte, key string, v expiring) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(b).Put([]byte(key), s.keys.box.Seal(b, []byte(key), data))
}

// takeEphemeral reads the record under key into v and deletes it, unless
// accept (when given) refuses it. It reports whether a record was taken.
func (s *Server) takeEphemeral(b []byte, key string, v any, accept func() bool) (bool, error) {
	taken := false
	err := s.db.Update(func(tx store.Tx) error {
		found, err := s.getEphemeral(tx, b, key, v)
		if taken = found && (accept == nil || accept()); !taken || err != nil {
			return err
		}
		return tx.Bucket(b).Delete([]byte(key))
	})
	return taken, err
}

// getEphemeral reads the record under key into v, reporting whether there
// is one.
func (s *Server) getEphemeral(tx store.Tx, b []byte, key string, v any) (bool, error) {
	sealed := tx.Bucket(b).Get([]byte(key))
	if sealed == nil {
		return false, nil
	}
	plain, err := s.keys.box.Open(b, []byte(key), sealed)
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(plain, v)
}

// pruneEphemeral drops the expired records of bucket b (and any that no
// longer open); rec makes an empty record to decode into.
func (s *Server) pruneEphemeral(tx store.Tx, b []byte, rec func() expiring, now time.Time) (int, error) {
	var gone []string
	if err := tx.Bucket(b).ForEach(func(k, v []byte) error {
		r := rec()
		plain, err := s.keys.box.Open(b, k, v)
		if err != nil || json.Unmarshal(plain, r) != nil || now.After(r.expiry()) {
			gone = append(gone, string(k))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	return len(gone), deleteKeys(tx.Bucket(b), gone)
}

// throttleState returns the record of each key.
func (s *Server) throttleState(keys ...string) ([]throttleRecord, error) {
	out := make([]throttleRecord, len(keys))
	err := s.db.View(func(tx store.Tx) error {
		for i, k := range keys {
			if err := getJSON(tx.Bucket(bThrottle), s.keys.throttleKey(k), &out[i]); err != nil && !errors.Is(err, errNotFound) {
				return err
			}
		}
		return nil
	})
	return out, err
}

// throttleUpdate applies f to the record of each key and stores the result
// (a zero record is deleted).
func (s *Server) throttleUpdate(f func(key string, r *throttleRecord), keys ...string) error {
	return s.db.Update(func(tx store.Tx) error {
		b := tx.Bucket(bThrottle)
		for _, k := range keys {
			var r throttleRecord
			sk := s.keys.throttleKey(k)
			if err := getJSON(b, sk, &r); err != nil && !errors.Is(err, errNotFound) {
				return err
			}
			f(k, &r)
			if r == (throttleRecord{}) {
				if err := b.Delete([]byte(sk)); err != nil {
					return err
				}
				continue
			}
			if err := putJSON(b, sk, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// audit appends an entry to the audit log within tx.
func (s *Server) audit(tx store.Tx, e auditEntry) error {
	b := tx.Bucket(bAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	return putJSON(b, string(binary.BigEndian.AppendUint64(nil, seq)), e)
}

// auditNow appends an entry in a transaction of its own.
func (s *Server) auditNow(e auditEntry) error {
	return s.db.Update(func(tx store.Tx) error { return s.audit(tx, e) })
}

// Audit returns the newest audit entries, newest first (at most limit).
func (s *Server) Audit(limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.db.View(func(tx store.Tx) error {
		return tx.Bucket(bAudit).Scan(nil, true, func(_, v []byte) error {
			if len(out) >= limit {
				return store.ErrStop
			}
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// formSecret returns the key of the central's anonymous form tokens, made
// once and kept in the store.
func (s *Server) formSecret() ([]byte, error) {
	var key []byte
	err := s.db.Update(func(tx store.Tx) error {
		meta := tx.Bucket(bMeta)
		if v := meta.Get(kFormSecret); len(v) == 32 {
			key = append([]byte(nil), v...)
			return nil
		}
		key = make([]byte, 32)
		rand.Read(key)
		return meta.Put(kFormSecret, key)
	})
	return key, err
}
