package kiosk_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"examkiosk/sync/kiosk"
)

// The [sync] table as a kiosk's config file gives it: one URL under the
// old key, or the list of nodes.
func TestCentralURLsConfig(t *testing.T) {
	for _, tc := range []struct {
		name, table string
		want        []string
		bad         string // a key the validation error names
	}{
		{"the single-URL key", `central_url = "https://exam.example.gov.cn"`, []string{"https://exam.example.gov.cn"}, ""},
		{"a list of nodes", `central_urls = ["https://a.exam.example.gov.cn", "https://b.exam.example.gov.cn/"]`,
			[]string{"https://a.exam.example.gov.cn", "https://b.exam.example.gov.cn/"}, ""},
		{"both, the single one first in the list", "central_url = \"https://a.example.cn\"\ncentral_urls = [\"https://a.example.cn\", \"https://b.example.cn\"]",
			[]string{"https://a.example.cn", "https://b.example.cn"}, ""},
		{"both, disagreeing", "central_url = \"https://c.example.cn\"\ncentral_urls = [\"https://a.example.cn\"]", nil, "sync.central_url, sync.central_urls"},
		{"a bad entry", `central_urls = ["https://a.example.cn", "a.example.cn:8700"]`, nil, "sync.central_urls[1]"},
		{"plain http to another host", `central_urls = ["https://a.example.cn", "http://10.0.0.2:8700"]`, nil, "sync.central_urls[1]"},
		{"a node twice", `central_urls = ["https://a.example.cn", "https://a.example.cn/"]`, nil, "sync.central_urls[1]"},
		{"failback too soon", "central_urls = [\"https://a.example.cn\", \"https://b.example.cn\"]\nfailback_after = \"10ms\"", nil, "sync.failback_after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := struct {
				Sync kiosk.Config `toml:"sync"`
			}{kiosk.DefaultConfig()}
			if _, err := toml.Decode("[sync]\n"+tc.table+"\n", &f); err != nil {
				t.Fatal(err)
			}
			err := f.Sync.Validate()
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("validate: %v, want an error naming %s", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Sync.Centrals(); !slices.Equal(got, tc.want) {
				t.Fatalf("Centrals() = %q, want %q", got, tc.want)
			}
		})
	}
}
