package wire

import "time"

// ProtocolVersion is the version of the kiosk–central protocol described in
// sync/PROTOCOL.md. Every endpoint lives under "/v1/".
const ProtocolVersion = 1

// Request headers that carry a device signature (see package signing).
const (
	HeaderDevice    = "X-Examkiosk-Device"
	HeaderTimestamp = "X-Examkiosk-Timestamp" // Unix seconds
	HeaderNonce     = "X-Examkiosk-Nonce"     // 32 hex characters, never reused
	HeaderBodyHash  = "X-Examkiosk-Content-Sha256"
	HeaderSignature = "X-Examkiosk-Signature" // base64 Ed25519 signature
)

// Signature versions: the first line of the signed messages (package
// signing; sync/PROTOCOL.md describes both and the upgrade from v1).
const (
	SignatureV2       = "examkiosk-sig-v2"
	AnswerSignatureV2 = "examkiosk-answer-v2"
)

// Answer headers: the central signs every answer under /v1/ with its answer
// key (EnrollResponse.AnswerKey), bound to the request's nonce.
const (
	HeaderAnswerTime      = "X-Examkiosk-Answer-Time"      // Unix seconds, the central's clock
	HeaderAnswerSignature = "X-Examkiosk-Answer-Signature" // base64 Ed25519 signature
)

// Error codes returned in ErrorResponse.Code.
const (
	ErrCodeBadRequest      = "bad_request"
	ErrCodeBadSignature    = "bad_signature"
	ErrCodeUnknownDevice   = "unknown_device"
	ErrCodeRevokedDevice   = "revoked_device"
	ErrCodeClockSkew       = "clock_skew"
	ErrCodeNonceReused     = "nonce_reused"
	ErrCodeTooLarge        = "too_large"
	ErrCodeNotFound        = "not_found"
	ErrCodeGone            = "gone"
	ErrCodeForbidden       = "forbidden"
	ErrCodeInvalidCode     = "invalid_enrolment_code"
	ErrCodeCaptcha         = "captcha_failed"
	ErrCodeThrottled       = "throttled" // too many failed logins: wait (Retry-After) or log in by QR
	ErrCodeInternal        = "internal"
	ErrCodeTooManyRequests = "too_many_requests"
)

// ErrorResponse is the body of every non-2xx answer from the central.
type ErrorResponse struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// SealedItem is one outbox item on the wire: the registration document is
// sealed to the central's X25519 key (package seal), only id and revision
// travel in the clear so that the central can answer per item.
type SealedItem struct {
	ID           string `json:"id"`
	Revision     int    `json:"revision"`
	CandidateKey string `json:"candidate_key,omitempty"`
	Sealed       []byte `json:"sealed"`
}

// PushRequest is the body of POST /v1/push.
type PushRequest struct {
	Items []SealedItem `json:"items"`
}

// PushResponse answers a push with one Result per item, in request order.
type PushResponse struct {
	Results []Result `json:"results"`
}

// Centre is a test centre, the organisation a kiosk belongs to.
type Centre struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
}

// EnrollRequest is the body of POST /v1/enroll. Proof is the Ed25519
// signature of EnrollProofMessage(Code) with the new device key.
type EnrollRequest struct {
	Code      string `json:"code"`
	PublicKey []byte `json:"public_key"`
	Proof     []byte `json:"proof"`
	Hostname  string `json:"hostname,omitempty"`
	Version   string `json:"version,omitempty"`
}

// EnrollProofMessage is what an enrolling kiosk signs to prove it holds the
// private key that belongs to the public key it presents.
func EnrollProofMessage(code string) []byte {
	return []byte("examkiosk-enroll-v1\n" + code)
}

// EnrollResponse tells a freshly enrolled kiosk who it is, the central's
// X25519 public key to seal registration documents to, and the central's
// Ed25519 answer key, which the kiosk pins: every later answer must be
// signed with it.
type EnrollResponse struct {
	DeviceID  string `json:"device_id"`
	Centre    Centre `json:"centre"`
	SealKey   []byte `json:"seal_key"`
	AnswerKey []byte `json:"answer_key"`
}

// Health is what a kiosk reports with each heartbeat.
type Health struct {
	QueueDepth    int       `json:"queue_depth"`
	Quarantined   int       `json:"quarantined"`
	Camera        string    `json:"camera"` // ok, missing, error: ...
	DiskFreeBytes uint64    `json:"disk_free_bytes"`
	Version       string    `json:"version"`
	LastSync      time.Time `json:"last_sync,omitzero"`
	At            time.Time `json:"at"`
	// OldestQueued is when the oldest undelivered item was queued (zero:
	// the outbox is empty); Model is the face recognition model in use.
	// Both feed the central's fleet alerts (sync/central/fleet.go).
	OldestQueued time.Time `json:"oldest_queued,omitzero"`
	Model        string    `json:"model,omitempty"`
	// Central is the base URL of the central node the kiosk uses (it may
	// list several, sync.central_urls).
	Central string `json:"central,omitempty"`
}

// HeartbeatResponse answers POST /v1/heartbeat.
type HeartbeatResponse struct {
	ServerTime time.Time `json:"server_time"`
}

// Device is the central's record of an enrolled kiosk.
type Device struct {
	ID            string    `json:"id"`
	CentreID      string    `json:"centre_id"`
	CentreName    string    `json:"centre_name"`
	Hostname      string    `json:"hostname,omitempty"`
	PublicKey     []byte    `json:"public_key"`
	EnrolledAt    time.Time `json:"enrolled_at"`
	Revoked       bool      `json:"revoked"`
	RevokedAt     time.Time `json:"revoked_at,omitzero"`
	LastHeartbeat time.Time `json:"last_heartbeat,omitzero"`
	Health        *Health   `json:"health,omitempty"`
}

// QR login channels.
const (
	ChannelAlipay         = "alipay"
	ChannelSocialSecurity = "social_security"
)

// QR login session states.
const (
	QRWaiting   = "waiting"   // QR shown, nobody scanned yet
	QRScanned   = "scanned"   // opened on a phone, waiting for confirmation
	QRConfirmed = "confirmed" // identity available (delivered to the kiosk once)
	QRExpired   = "expired"   // 120 s passed: show a new QR
	QRConsumed  = "consumed"  // the confirmed identity was already handed out
)

// QRLoginRequest is the body of POST /v1/qr/sessions.
type QRLoginRequest struct {
	Channel string `json:"channel"` // alipay or social_security
}

// QRSession is a QR login session as the kiosk sees it.
type QRSession struct {
	ID        string    `json:"id"`
	Channel   string    `json:"channel"`
	URL       string    `json:"url"` // QR contents: <public base>/qr/<token>
	State     string    `json:"state"`
	ExpiresAt time.Time `json:"expires_at"`
	Identity  *Identity `json:"identity,omitempty"` // only with state confirmed
	// PasswordTicket comes with a confirmed identity: for a few minutes it
	// lets this kiosk set (or reset) that identity's account password.
	PasswordTicket string `json:"password_ticket,omitempty"`
}

// Identity is a candidate identity established by the central.
type Identity struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Source   string `json:"source"` // alipay_qr, social_security_qr, account
}

// Captcha is a one-time image challenge for account login.
type Captcha struct {
	ID        string    `json:"id"`
	PNG       []byte    `json:"png"`
	ExpiresAt time.Time `json:"expires_at"`
}

// AccountLoginRequest is the body of POST /v1/account/login.
type AccountLoginRequest struct {
	IDNumber      string `json:"id_number"`
	Password      string `json:"password"`
	CaptchaID     string `json:"captcha_id"`
	CaptchaAnswer string `json:"captcha_answer"`
}

// SetPasswordRequest is the body of POST /v1/account/password: the
// password of the identity a QR login just verified (first time or
// forgotten). Ticket is that login's QRSession.PasswordTicket; the name
// and ID number are the ticket's, Name and IDNumber only have to agree.
type SetPasswordRequest struct {
	Ticket        string `json:"ticket"`
	IDNumber      string `json:"id_number"`
	Name          string `json:"name"`
	NewPassword   string `json:"new_password"`
	CaptchaID     string `json:"captcha_id"`
	CaptchaAnswer string `json:"captcha_answer"`
}

// Account login outcomes.
const (
	LoginOK              = "ok"
	LoginWrongCredential = "wrong_credentials"
)

// AccountLoginResponse answers an account login or password set.
type AccountLoginResponse struct {
	Status   string    `json:"status"`
	Message  string    `json:"message,omitempty"`
	Identity *Identity `json:"identity,omitempty"`
}
