package central_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/seal"
	"examkiosk/sync/signing"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*central.Config)
		wantKey string
	}{
		{"defaults", func(*central.Config) {}, ""},
		{"no data dir", func(c *central.Config) { c.DataDir = "" }, "central.data_dir"},
		{"relative public url", func(c *central.Config) { c.PublicURL = "/qr" }, "central.public_url"},
		{"skew", func(c *central.Config) { c.ClockSkew = time.Second }, "central.clock_skew"},
		{"batch", func(c *central.Config) { c.MaxBatchItems = 0 }, "central.max_batch_items"},
		{"body", func(c *central.Config) { c.MaxBodyBytes = 10 }, "central.max_body_bytes"},
		{"qr ttl", func(c *central.Config) { c.QRTTL = time.Hour }, "central.qr_ttl"},
		{"provider key without app id", func(c *central.Config) { c.Alipay.PublicKeyFile = "alipay.pem" }, "central.alipay.app_id"},
		{"session ttl", func(c *central.Config) { c.SessionTTL = time.Minute }, "central.session_ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := central.DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantKey == "" && err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if tt.wantKey != "" && (err == nil || !strings.Contains(err.Error(), tt.wantKey)) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantKey)
			}
		})
	}
}

// rawDevice signs requests by hand so that tests can break them.
type rawDevice struct {
	t    *testing.T
	url  string
	id   kiosk.Identity
	seal *[32]byte
}

func enrol(tb testing.TB, c *testbed.Central) rawDevice {
	cfg := kiosk.DefaultConfig()
	id, err := c.Enroll(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	sk, _ := seal.PublicKey(id.SealKey)
	t, _ := tb.(*testing.T)
	return rawDevice{t: t, url: c.URL, id: id, seal: sk}
}

type call struct {
	method, path string
	body         []byte
	signedBody   []byte // defaults to body
	device       string // defaults to the enrolled id
	key          ed25519.PrivateKey
	ctype        string // Content-Type, signed
	at           time.Time
	mutate       func(*http.Request)
}

func (d rawDevice) do(c call) (int, wire.ErrorResponse, []byte) {
	d.t.Helper()
	req, _ := http.NewRequest(c.method, d.url+c.path, bytes.NewReader(c.body))
	if c.signedBody == nil {
		c.signedBody = c.body
	}
	if c.device == "" {
		c.device = d.id.DeviceID
	}
	if c.key == nil {
		c.key = d.id.PrivateKey
	}
	if c.at.IsZero() {
		c.at = time.Now()
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	if err := signing.Sign(req, c.device, c.key, c.signedBody, c.at); err != nil {
		d.t.Fatal(err)
	}
	if c.mutate != nil {
		c.mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var er wire.ErrorResponse
	json.Unmarshal(data, &er)
	return resp.StatusCode, er, data
}

func (d rawDevice) pushBody(n int, ids ...string) []byte {
	var req wire.PushRequest
	photo := testbed.Photo(320, 440, 90, 3)
	for i, id := range ids {
		id = testbed.RegID(id)
		r := testbed.Registration(id, 1, d.id.DeviceID, testbed.IDNumber(n+i), photo)
		sealed, err := seal.Seal(testbed.Doc(r), d.seal)
		if err != nil {
			d.t.Fatal(err)
		}
		req.Items = append(req.Items, wire.SealedItem{ID: id, Revision: 1, Sealed: sealed})
	}
	b, _ := json.Marshal(req)
	return b
}

func TestRejections(t *testing.T) { testbed.EachStore(t, rejections) }

func rejections(t *testing.T, cfg central.Config) {
	cfg.MaxBatchItems = 5
	cfg.MaxBodyBytes = 1 << 20
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)
	revoked := enrol(t, c)
	if err := c.Server().Revoke(revoked.id.DeviceID); err != nil {
		t.Fatal(err)
	}
	_, strangerKey, _ := ed25519.GenerateKey(nil)
	good := d.pushBody(0, "r-a")
	replayed := d.pushBody(1, "r-b")
	var replayReq *http.Request
	tests := []struct {
		name     string
		call     call
		dev      *rawDevice
		status   int
		code     string
		accepted bool
	}{
		{"valid", call{method: "POST", path: "/v1/push", body: good}, nil, 200, "", true},
		{"bad signature", call{method: "POST", path: "/v1/push", body: good, key: strangerKey}, nil, 401, wire.ErrCodeBadSignature, false},
		{"tampered body", call{method: "POST", path: "/v1/push", body: d.pushBody(2, "r-c"), signedBody: good,
			mutate: func(r *http.Request) {}}, nil, 401, wire.ErrCodeBadSignature, false},
		{"unknown device", call{method: "POST", path: "/v1/push", body: good, device: "kiosk-nobody"}, nil, 401, wire.ErrCodeBadSignature, false},
		{"revoked device", call{method: "POST", path: "/v1/push", body: revoked.pushBody(3, "r-d")}, &revoked, 403, wire.ErrCodeRevokedDevice, false},
		{"clock behind", call{method: "POST", path: "/v1/push", body: good, at: time.Now().Add(-6 * time.Minute)}, nil, 401, wire.ErrCodeClockSkew, false},
		{"clock ahead", call{method: "POST", path: "/v1/push", body: good, at: time.Now().Add(6 * time.Minute)}, nil, 401, wire.ErrCodeClockSkew, false},
		{"first use of nonce", call{method: "POST", path: "/v1/push", body: replayed, mutate: func(r *http.Request) { replayReq = r.Clone(context.Background()) }}, nil, 200, "", true},
		{"nonce reuse", call{method: "POST", path: "/v1/push", body: replayed, mutate: func(r *http.Request) {
			for _, h := range []string{wire.HeaderTimestamp, wire.HeaderNonce, wire.HeaderSignature} {
				r.Header.Set(h, replayReq.Header.Get(h))
			}
		}}, nil, 401, wire.ErrCodeNonceReused, false},
		{"too many items", call{method: "POST", path: "/v1/push", body: d.pushBody(10, "x1", "x2", "x3", "x4", "x5", "x6")}, nil, 413, wire.ErrCodeTooLarge, false},
		{"too many bytes", call{method: "POST", path: "/v1/push", body: append(bytes.Repeat([]byte(" "), 2<<20), good...)}, nil, 413, wire.ErrCodeTooLarge, false},
		{"malformed JSON", call{method: "POST", path: "/v1/push", body: []byte(`{"items":[{"id":`)}, nil, 400, wire.ErrCodeBadRequest, false},
		{"malformed binary batch", call{method: "POST", path: "/v1/push", body: []byte("EKP1\x00\x00\x00\x05{}"),
			ctype: wire.PushContentType}, nil, 400, wire.ErrCodeBadRequest, false},
		{"unsigned", call{method: "POST", path: "/v1/push", body: good, mutate: func(r *http.Request) { r.Header.Del(wire.HeaderSignature) }}, nil, 401, wire.ErrCodeBadSignature, false},
		{"bad cursor", call{method: "GET", path: "/v1/pull?cursor=zzz"}, nil, 400, wire.ErrCodeBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev := d
			if tt.dev != nil {
				dev = *tt.dev
			}
			dev.t = t
			status, er, data := dev.do(tt.call)
			if status != tt.status || er.Code != tt.code {
				t.Fatalf("status %d code %q (%s), want %d %q", status, er.Code, data, tt.status, tt.code)
			}
			if tt.accepted {
				var pr wire.PushResponse
				if err := json.Unmarshal(data, &pr); err != nil || len(pr.Results) != 1 || pr.Results[0].Status != wire.StatusAccepted {
					t.Fatalf("push answer %s", data)
				}
			}
		})
	}
	if n, _ := c.Server().RevisionCount(); n != 2 {
		t.Fatalf("central stored %d revisions, want exactly the 2 valid pushes", n)
	}
}

func TestIngestIdempotent(t *testing.T) { testbed.EachStore(t, ingestIdempotent) }

func ingestIdempotent(t *testing.T, cfg central.Config) {
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 3)
	small := testbed.Photo(300, 420, 10, 3)
	mk := func(label string, rev int, mutate func(*wire.Registration)) wire.SealedItem {
		id := testbed.RegID(label)
		r := testbed.Registration(id, rev, d.id.DeviceID, testbed.IDNumber(int(label[0])), photo)
		if mutate != nil {
			mutate(&r)
		}
		sealed, _ := seal.Seal(testbed.Doc(r), d.seal)
		return wire.SealedItem{ID: id, Revision: rev, Sealed: sealed}
	}
	srv := c.Server()
	steps := []struct {
		name  string
		items []wire.SealedItem
		want  []string
	}{
		{"first", []wire.SealedItem{mk("a", 1, nil), mk("b", 1, nil)}, []string{"accepted", "accepted"}},
		{"same again, resealed", []wire.SealedItem{mk("a", 1, nil), mk("b", 1, nil)}, []string{"duplicate", "duplicate"}},
		{"new revision and conflict", []wire.SealedItem{mk("a", 2, nil), mk("b", 1, func(r *wire.Registration) { r.Major = "x" })}, []string{"accepted", "rejected"}},
		{"photo rules", []wire.SealedItem{mk("c", 1, func(r *wire.Registration) { r.Photo = small })}, []string{"rejected"}},
		{"wrong device in document", []wire.SealedItem{mk("e", 1, func(r *wire.Registration) { r.DeviceID = "kiosk-other" })}, []string{"rejected"}},
		{"not sealed to us", []wire.SealedItem{{ID: testbed.RegID("f"), Revision: 1, Sealed: []byte("garbage that is long enough to look like a box......")}}, []string{"rejected"}},
		{"revision zero", []wire.SealedItem{{ID: testbed.RegID("g"), Revision: 0}}, []string{"rejected"}},
	}
	for _, st := range steps {
		res, err := srv.Ingest(d.id.DeviceID, st.items)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for i, r := range res {
			if r.Status != st.want[i] {
				t.Errorf("%s: item %d = %+v, want %s", st.name, i, r, st.want[i])
			}
		}
	}
	if n, _ := srv.RevisionCount(); n != 3 {
		t.Fatalf("%d revisions stored, want 3", n)
	}
	regs, _ := srv.Registrations("")
	if len(regs) != 2 || regs[0].Revision+regs[1].Revision != 3 {
		t.Fatalf("registrations %+v", regs)
	}
}

func TestEnrolment(t *testing.T) { testbed.EachStore(t, enrolment) }

func enrolment(t *testing.T, ccfg central.Config) {
	c := testbed.StartCentral(t, ccfg)
	srv := c.Server()
	if err := srv.AddCentre(wire.Centre{ID: "c2", Name: "第二考点"}); err != nil {
		t.Fatal(err)
	}
	code, _, err := srv.NewEnrolmentCode("c2")
	if err != nil {
		t.Fatal(err)
	}
	cfg := kiosk.DefaultConfig()
	cfg.CentralURL = c.URL
	id, err := kiosk.Enroll(t.Context(), cfg, code, "k2", "1.0", nil)
	if err != nil || id.Centre.Name != "第二考点" || len(id.SealKey) != 32 {
		t.Fatalf("enrol = %+v, %v", id, err)
	}
	if _, err := kiosk.Enroll(t.Context(), cfg, code, "k3", "1.0", nil); !kiosk.IsCode(err, wire.ErrCodeInvalidCode) {
		t.Fatalf("second use of one-time code: %v", err)
	}
	if _, err := kiosk.Enroll(t.Context(), cfg, "NOPE", "k3", "1.0", nil); !kiosk.IsCode(err, wire.ErrCodeInvalidCode) {
		t.Fatalf("unknown code: %v", err)
	}
	// The demo code enrols one kiosk (from loopback), once.
	if _, err := kiosk.Enroll(t.Context(), cfg, central.DemoEnrolmentCode, "demo", "1.0", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := kiosk.Enroll(t.Context(), cfg, central.DemoEnrolmentCode, "demo", "1.0", nil); !kiosk.IsCode(err, wire.ErrCodeInvalidCode) {
		t.Fatalf("second use of the demo code: %v", err)
	}
	// Proof of possession: a public key without its private key is refused.
	pub, _, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	body, _ := json.Marshal(wire.EnrollRequest{Code: central.DemoEnrolmentCode, PublicKey: pub, Proof: ed25519.Sign(other, wire.EnrollProofMessage(central.DemoEnrolmentCode))})
	resp, err := http.Post(c.URL+"/v1/enroll", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("enrol without proof: %d", resp.StatusCode)
	}
	devs, _ := srv.Devices()
	if len(devs) != 2 {
		t.Fatalf("%d devices, want 2", len(devs))
	}
}

func TestAdminGuard(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.AdminToken = "s3cret"
	c := testbed.StartCentral(t, cfg)
	for _, tt := range []struct {
		token string
		want  int
	}{{"", 401}, {"wrong", 401}, {"s3cret", 200}} {
		req, _ := http.NewRequest("GET", c.URL+"/admin/devices", nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("token %q: %d, want %d", tt.token, resp.StatusCode, tt.want)
		}
	}
}

func TestReviewerPages(t *testing.T) { testbed.EachStore(t, reviewerPages) }

func reviewerPages(t *testing.T, cfg central.Config) {
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)
	if st, _, data := d.do(call{method: "POST", path: "/v1/push", body: d.pushBody(0, "r-1", "r-2")}); st != 200 {
		t.Fatalf("push: %d %s", st, data)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar} // the demo reviewer's browser: the form cookie and token
	get := func(path string) string {
		resp, err := browser.Get(c.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	page := get("/review")
	r1, r2 := testbed.RegID("r-1"), testbed.RegID("r-2")
	if !strings.Contains(page, r1) || !strings.Contains(page, `action="/review/`+r2+`"`) {
		t.Fatalf("review page lacks the registrations:\n%s", page)
	}
	if photo := get("/admin/registrations/" + r1 + "/photo"); !strings.HasPrefix(photo, "\xff\xd8") {
		t.Fatal("photo endpoint did not return the JPEG")
	}
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("review page has no CSRF token:\n%s", page)
	}
	resp, err := browser.PostForm(c.URL+"/review/"+r1, map[string][]string{"decision": {"reject"}, "reason": {"照片模糊"}, "csrf": {csrf[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	body, _ := json.Marshal(map[string]string{"decision": "approve"})
	resp, err = http.Post(c.URL+"/admin/registrations/"+r2+"/review", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var reg central.Registration
	json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if reg.Status != central.StatusApproved || reg.OrderID == "" {
		t.Fatalf("approve via API: %+v", reg)
	}
	if p := get("/pay/" + reg.OrderID); !strings.Contains(p, "¥100.00") {
		t.Fatalf("pay page:\n%s", p)
	}
	rejected, _ := c.Server().Registrations(central.StatusRejected)
	if len(rejected) != 1 || rejected[0].ID != r1 || rejected[0].Reason != "照片模糊" || rejected[0].ReviewedBy != "demo" {
		t.Fatalf("after form review: %+v", rejected)
	}
	if !strings.Contains(get("/devices"), d.id.DeviceID) {
		t.Fatal("devices page lacks the kiosk")
	}
}
