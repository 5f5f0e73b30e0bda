package central

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"examkiosk/sync/wire"
)

// Every key the pages and handlers use has words in every language, with
// the same arguments; the dynamic keys (alert kinds, payment and review
// statuses, channels) too.
func TestPageWords(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	used := map[string]bool{}
	keyRe := regexp.MustCompile(`(?:\bT |\bT\(|\bBoth\(|Message = |Err"\] = |assertionError\{http\.Status\w+, |data\.Message = http\.Status\w+, )"([a-z][A-Za-z_]*\.[A-Za-z_.]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRe.FindAllSubmatch(b, -1) {
			used[string(m[1])] = true
		}
	}
	for _, k := range []string{AlertNoHeartbeat, AlertQueueOld, AlertCameraDisconnected, AlertLowDisk, AlertVersionBehind} {
		used["alert."+k] = true
	}
	for _, k := range []string{"unpaid", "paid", "expired"} {
		used["pay.st."+k] = true
	}
	used["status."+StatusApproved], used["status."+StatusRejected] = true, true
	used[channelKey(wire.ChannelAlipay)], used[channelKey(wire.ChannelSocialSecurity)] = true, true
	if len(used) < 40 {
		t.Fatalf("found only %d keys in use: the pattern no longer matches the code", len(used))
	}
	verbs := regexp.MustCompile(`%[a-z]`)
	for k := range used {
		text, ok := pageText[k]
		if !ok {
			t.Errorf("key %q is used but has no words (words.go)", k)
			continue
		}
		for l := range nLangs {
			if strings.TrimSpace(text[l]) == "" {
				t.Errorf("key %q has no %s words", k, langCodes[l])
			}
		}
		if a, b := verbs.FindAllString(text[langZH], -1), verbs.FindAllString(text[langEN], -1); strings.Join(a, "") != strings.Join(b, "") {
			t.Errorf("key %q: the languages take different arguments (%v, %v)", k, a, b)
		}
	}
	for k := range pageText {
		if !used[k] {
			t.Errorf("key %q has words but no page uses it", k)
		}
	}
}

// The language of a page: ?lang= (remembered), else the browser's
// Accept-Language, else Chinese.
func TestPageLanguage(t *testing.T) {
	for _, tc := range []struct{ query, cookie, accept, want string }{
		{"", "", "", "zh-CN"},
		{"", "", "en-US,en;q=0.9", "en"},
		{"", "", "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"},
		{"", "", "fr-FR,fr;q=0.9", "zh-CN"},
		{"", "", "fr-FR,en;q=0.5", "en"},
		{"", "", "zh-TW", "zh-CN"},
		{"", "en", "zh-CN", "en"},
		{"zh-CN", "en", "en", "zh-CN"},
		{"en", "", "zh-CN", "en"},
		{"xx-!!", "", "en", "en"},
	} {
		r := httptest.NewRequest("GET", "/review?lang="+tc.query, nil)
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: tc.cookie})
		}
		if tc.accept != "" {
			r.Header.Set("Accept-Language", tc.accept)
		}
		w := httptest.NewRecorder()
		if got := pageWords(w, r).Lang(); got != tc.want {
			t.Errorf("lang=%q cookie=%q Accept-Language=%q: %s, want %s", tc.query, tc.cookie, tc.accept, got, tc.want)
		}
		if set := w.Result().Cookies(); tc.query != "" && tc.want == tc.query && (len(set) != 1 || set[0].Value != tc.want) {
			t.Errorf("lang=%s is not remembered: %v", tc.query, set)
		}
	}
}

// Each page of the central speaks one language: the English page holds
// none of the catalog's Chinese and the Chinese page none of its English,
// and each links to the other language.
func TestPagesInOneLanguage(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Demo = true
	cfg.DataDir = t.TempDir()
	ts := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + ts.Listener.Addr().String()
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts.Config.Handler = s.Handler()
	ts.Start()
	defer ts.Close()

	for _, path := range []string{"/review", "/devices", "/fleet", "/login", "/qr/not-a-token", "/pay/no-such-order"} {
		for l := range nLangs {
			other := (l + 1) % nLangs
			resp, err := http.Get(ts.URL + path + "?lang=" + langCodes[l])
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page := string(b)
			if !strings.Contains(page, `<html lang="`+langCodes[l]+`">`) {
				t.Errorf("%s in %s: no <html lang=%q>:\n%s", path, langCodes[l], langCodes[l], page)
			}
			if !strings.Contains(page, `href="?lang=`+langCodes[other]+`"`) {
				t.Errorf("%s in %s: no link to %s", path, langCodes[l], langCodes[other])
			}
			for k, text := range pageText {
				w := text[other]
				// the words before any argument, if long enough to mean something
				w = strings.SplitN(w, "%", 2)[0]
				least := 4
				if strings.ContainsFunc(w, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
					least = 2
				}
				if len([]rune(w)) >= least && w != text[l] && strings.Contains(page, w) {
					t.Errorf("%s in %s holds the %s words of %s: %q", path, langCodes[l], langCodes[other], k, w)
				}
			}
		}
	}
}
