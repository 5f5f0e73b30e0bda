package central

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"examkiosk/sync/wire"
)

// Staff roles: a reviewer reviews registrations; an admin also manages
// centres, enrolment codes, devices and the catalog.
const (
	RoleReviewer = "reviewer"
	RoleAdmin    = "admin"
)

// argon2id cost: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane);
// 254 ms a check on the shared 2-core box at load 17 (docs/BENCHMARKS.md);
// staff log in a few times a day.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// hashPassword returns the argon2id hash of pw as a PHC string.
func hashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// checkPassword reports whether pw matches a PHC argon2id string.
func checkPassword(phc, pw string) bool {
	var v int
	var m, t uint32
	var p uint8
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 10 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyStaffHash is checked against when a name is unknown, so that an
// unknown name costs as long as a wrong password.
const dummyStaffHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$8Yk3s0mJ2m3Q2mQ8o0n2kq0m3Q2mQ8o0n2kq0m3Q2mQ"

var reviewerName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// AddReviewer creates or replaces a named staff account (role RoleReviewer
// or RoleAdmin) with an argon2id hash of its password.
func (s *Server) AddReviewer(name, role, password string) error {
	if !reviewerName.MatchString(name) || name == "demo" || name == "admin-token" {
		return fmt.Errorf("reviewer name %q: 2–32 of a-z 0-9 . _ -, starting with a letter or digit (demo and admin-token are taken)", name)
	}
	if role != RoleReviewer && role != RoleAdmin {
		return fmt.Errorf("reviewer role %q: want %s or %s", role, RoleReviewer, RoleAdmin)
	}
	if msg := passwordProblem(password, name); msg != "" || len(password) < 12 {
		return fmt.Errorf("reviewer password: at least 12 characters with letters and digits, not easy to guess")
	}
	if err := s.putReviewer(reviewerRecord{Name: name, Role: role, Hash: hashPassword(password), CreatedAt: s.now()}); err != nil {
		return fmt.Errorf("store reviewer %s: %w", name, err)
	}
	return s.auditNow(auditEntry{Actor: "cli", Action: "reviewer_added", Target: name, Detail: role})
}

// principal is who a staff request acts as.
type principal struct {
	name, role string
	csrf       string // the token its forms must carry
}

type principalKey struct{}

func principalFrom(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

const staffCookie = "examkiosk-staff"

// cookieName adds the __Host- prefix (Secure, host-only, path /) when the
// central is reached over HTTPS.
func (s *Server) cookieName(base string, r *http.Request) string {
	if s.secure(r) {
		return "__Host-" + base
	}
	return base
}

func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https://")
}

// hostAllowed reports whether the request's Host names this central: the
// host of public_url, central.allowed_hosts, and in demo mode localhost.
func (s *Server) hostAllowed(r *http.Request) bool {
	return s.hostNameAllowed(r.Host)
}

func (s *Server) hostNameAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "" {
		return false
	}
	if u, err := url.Parse(s.cfg.PublicURL); err == nil && strings.EqualFold(u.Hostname(), host) {
		return true
	}
	if s.cfg.Demo && (host == "localhost" || host == "127.0.0.1" || host == "::1") {
		return true
	}
	for _, h := range s.cfg.AllowedHosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// sameOrigin reports whether a state-changing browser request comes from a
// page of this central: Sec-Fetch-Site, when sent, is same-origin (or none:
// typed by the user), and Origin (or Referer), when sent, is this Host.
// Requests with neither come from programs, not browsers; they still need
// their credentials and, with a cookie, the CSRF token.
func (s *Server) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get("Referer")
	}
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) && s.hostNameAllowed(u.Host)
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// ---- anonymous form tokens (login, the phone pages) ----

const formCookie = "examkiosk-form"

// formToken returns the CSRF token for a form served to this browser: an
// HMAC of a random cookie it sets (SameSite=Strict, HttpOnly) when absent.
func (s *Server) formToken(w http.ResponseWriter, r *http.Request) string {
	v := ""
	if c, err := r.Cookie(s.cookieName(formCookie, r)); err == nil && len(c.Value) == 32 {
		v = c.Value
	} else {
		v = randomID(16)
		http.SetCookie(w, &http.Cookie{Name: s.cookieName(formCookie, r), Value: v, Path: "/", HttpOnly: true,
			Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
		r.AddCookie(&http.Cookie{Name: s.cookieName(formCookie, r), Value: v}) // a second form on the same page
	}
	m := hmac.New(sha256.New, s.formKey)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

// checkFormToken checks a POSTed form's csrf field against the browser's
// form cookie, and that the request is same-origin.
func (s *Server) checkFormToken(r *http.Request) bool {
	c, err := r.Cookie(s.cookieName(formCookie, r))
	if err != nil || len(c.Value) != 32 || !s.sameOrigin(r) {
		return false
	}
	m := hmac.New(sha256.New, s.formKey)
	m.Write([]byte(c.Value))
	want := hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(r.PostFormValue("csrf")))
}

// page guards the pages people open in a browser (phone pages, login): the
// Host must be allowed and a form body is small.
func (s *Server) page(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r) {
			http.Error(w, "unknown host "+r.Host+": add it to central.allowed_hosts", http.StatusMisdirectedRequest)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		h(w, r)
	})
}

// ---- staff authentication ----

// admin guards the admin pages and API (role admin).
func (s *Server) admin(h http.HandlerFunc) http.Handler { return s.staff(RoleAdmin, h) }

// reviewer guards the review pages and API (role reviewer or admin).
func (s *Server) reviewer(h http.HandlerFunc) http.Handler { return s.staff(RoleReviewer, h) }

// staff authenticates a staff request: a reviewer's session cookie (with
// its CSRF token on every change), or "Authorization: Bearer <admin_token>"
// for scripts, or, in demo mode without an admin_token, anyone as "demo".
// The peer address is never trusted. The Host must be allowed.
func (s *Server) staff(role string, h http.HandlerFunc) http.Handler {
	return s.page(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.authenticateStaff(w, r)
		if !ok {
			if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			writeError(w, http.StatusUnauthorized, wire.ErrCodeForbidden, "log in as a reviewer at /login, or send Authorization: Bearer <central.admin_token>")
			return
		}
		if role == RoleAdmin && p.role != RoleAdmin {
			writeError(w, http.StatusForbidden, wire.ErrCodeForbidden, "reviewer "+p.name+" is not an admin")
			return
		}
		if unsafeMethod(r.Method) && p.csrf != "" {
			given := r.Header.Get("X-CSRF-Token")
			if given == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
				given = r.PostFormValue("csrf")
			}
			// A program without the browser's cookies has no session; the demo
			// principal's programs send neither token nor Origin.
			demoProgram := p.name == "demo" && given == "" && r.Header.Get("Origin") == "" && r.Header.Get("Sec-Fetch-Site") == "" &&
				!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
			if !s.sameOrigin(r) || (!demoProgram && !hmac.Equal([]byte(given), []byte(p.csrf))) {
				s.auditNow(auditEntry{Actor: p.name, Action: "csrf_refused", Target: r.URL.Path, Remote: r.RemoteAddr})
				writeError(w, http.StatusForbidden, wire.ErrCodeForbidden, words{}.Both("form.expired")) // programs and pages alike
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func (s *Server) authenticateStaff(w http.ResponseWriter, r *http.Request) (principal, bool) {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.cfg.AdminToken)) == 1 {
			return principal{name: "admin-token", role: RoleAdmin}, true
		}
		return principal{}, false
	}
	if c, err := r.Cookie(s.cookieName(staffCookie, r)); err == nil && c.Value != "" {
		rec, err := s.getSession(c.Value)
		if err == nil && s.now().Before(rec.ExpiresAt) {
			if acc, err := s.getReviewer(rec.Reviewer); err == nil && !acc.Disabled && acc.Role == rec.Role {
				return principal{name: rec.Reviewer, role: rec.Role, csrf: rec.CSRF}, true
			}
		}
	}
	if s.cfg.Demo && s.cfg.AdminToken == "" {
		return principal{name: "demo", role: RoleAdmin, csrf: s.formToken(w, r)}, true
	}
	return principal{}, false
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><title>{{.W.T "login.title"}}</title>
<style>body{font-family:sans-serif;max-width:24em;margin:3em auto}label{display:block;margin:.6em 0}input{width:100%;font-size:1em}.lang{float:right}</style></head><body>
{{.W.Switch}}
<h1>{{.W.T "login.title"}}</h1>
{{if .Msg}}<p><strong>{{.Msg}}</strong></p>{{end}}
<form method="post" action="/login"><input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="next" value="{{.Next}}">
<label>{{.W.T "login.name"}} <input name="name" autocomplete="username" required></label>
<label>{{.W.T "login.password"}} <input name="password" type="password" autocomplete="current-password" required></label>
<button>{{.W.T "login.submit"}}</button></form></body></html>`))

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	loginPage.Execute(w, map[string]any{"W": pageWords(w, r), "CSRF": s.formToken(w, r), "Next": r.URL.Query().Get("next")})
}

// handleLogin checks a reviewer's name and password. Unknown names and
// wrong passwords answer alike and cost alike; each name is throttled.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	words := pageWords(w, r)
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		loginPage.Execute(w, map[string]any{"W": words, "CSRF": s.formToken(w, r), "Next": r.PostFormValue("next"), "Msg": msg})
	}
	if !s.checkFormToken(r) {
		fail(http.StatusForbidden, words.T("form.expired"))
		return
	}
	name := strings.ToLower(strings.TrimSpace(r.PostFormValue("name")))
	if len(name) > 64 {
		name = name[:64]
	}
	if wait, err := s.throttled(tkStaff(name)); err != nil || wait > 0 {
		fail(http.StatusTooManyRequests, words.T("login.tooMany", retryMinutes(wait)))
		return
	}
	acc, err := s.getReviewer(name)
	hash := acc.Hash
	if err != nil || acc.Disabled {
		hash = dummyStaffHash
	}
	if !checkPassword(hash, r.PostFormValue("password")) || err != nil || acc.Disabled {
		s.throttleFailed(map[string]throttlePolicy{tkStaff(name): staffThrottle})
		s.auditNow(auditEntry{Actor: name, Action: "login_failed", Remote: r.RemoteAddr})
		fail(http.StatusUnauthorized, words.T("login.wrong"))
		return
	}
	s.throttleClear(tkStaff(name))
	id, csrf := randomID(32), randomID(32)
	now := s.now()
	if err := s.putSession(id, sessionRecord{Reviewer: acc.Name, Role: acc.Role, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}); err != nil {
		fail(http.StatusInternalServerError, words.T("login.failed"))
		return
	}
	s.auditNow(auditEntry{Actor: acc.Name, Action: "login", Remote: r.RemoteAddr})
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(staffCookie, r), Value: id, Path: "/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.cfg.SessionTTL / time.Second)})
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/review"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleLogout ends the reviewer's session.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.cookieName(staffCookie, r)); err == nil {
		s.deleteSession(c.Value)
	}
	s.auditNow(auditEntry{Actor: principalFrom(r.Context()).name, Action: "logout", Remote: r.RemoteAddr})
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(staffCookie, r), Value: "", Path: "/", HttpOnly: true, Secure: s.secure(r), MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	es, err := s.Audit(500)
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, es)
}
