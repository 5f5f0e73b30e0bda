package central

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The page language at its edges (words.go): a chosen language is
// remembered for a year by a cookie scripts cannot read, and a language
// the pages do not have, asked by ?lang= or by the browser, is no choice.
func TestPageLanguageChoiceEdges(t *testing.T) {
	r := httptest.NewRequest("GET", "/review?lang=en-GB", nil)
	w := httptest.NewRecorder()
	if got := pageWords(w, r).Lang(); got != "en" {
		t.Fatalf("lang=en-GB: %s", got)
	}
	set := w.Result().Cookies()
	if len(set) != 1 || set[0].Name != langCookie || set[0].Value != "en" || set[0].MaxAge != 365*24*3600 || set[0].Path != "/" || !set[0].HttpOnly || set[0].SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie %+v, want %s=en for a year (MaxAge 31536000), path /, HttpOnly, SameSite=Lax", set, langCookie)
	}
	for _, tc := range []struct{ query, cookie, accept, want string }{
		{"fr", "", "en", "en"},      // a language the pages lack: the browser's
		{"fr", "en", "zh-CN", "en"}, // … or the remembered one
		{"", "fr", "en", "en"},      // a cookie naming another language is ignored
		{"", "", "en;q=0", "zh-CN"}, // "not English" is no choice of English
		{"", "", "fr, de", "zh-CN"}, // no language of the pages: Chinese
		{"", "", "de, en;q=0.1", "en"},
	} {
		r := httptest.NewRequest("GET", "/review?lang="+tc.query, nil)
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: tc.cookie})
		}
		r.Header.Set("Accept-Language", tc.accept)
		w := httptest.NewRecorder()
		if got := pageWords(w, r).Lang(); got != tc.want {
			t.Errorf("lang=%q cookie=%q Accept-Language=%q: %s, want %s", tc.query, tc.cookie, tc.accept, got, tc.want)
		}
		if set := w.Result().Cookies(); len(set) != 0 {
			t.Errorf("lang=%q: cookie set %v, want none", tc.query, set)
		}
	}
}

// A page's words with figures are formatted in the page's language (the
// fleet page's alert count), in both for a program's answer; words
// without figures are the catalog's as they are.
func TestPageWordsFormatted(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{words{langEN}.T("fleet.alerts", 3), "Alerts (3)"},
		{words{langZH}.T("fleet.alerts", 12), "告警（12）"},
		{words{langEN}.Both("fleet.alerts", 2), "告警（2） / Alerts (2)"},
		{words{langEN}.T("fleet.noAlerts"), "No alerts"},
		{words{langEN}.T("no.such.key", 1), "no.such.key"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
}
