package printer

import "testing"

func TestReasons(t *testing.T) {
	for lpstat, want := range map[string]string{
		"printer p is idle.\n\tAlerts: media-empty-error\n":              CodeNoPaper,
		"printer p is idle.\n\tAlerts: none media-needed-warning\n":      CodeNoPaper,
		"printer p now printing.\n\tAlerts: media-jam-error\n":           CodeJammed,
		"printer p is idle.\n\tAlerts: offline-report\n":                 CodeOffline,
		"printer p is idle.  enabled since x\n\tAlerts: none\n":          "",
		"printer p is idle.\n\tAlerts: cups-waiting-for-job-completed\n": "",
	} {
		got := ""
		if e := reasons(lpstat); e != nil {
			got = e.Code
		}
		if got != want {
			t.Errorf("%q: %q, want %q", lpstat, got, want)
		}
	}
}
