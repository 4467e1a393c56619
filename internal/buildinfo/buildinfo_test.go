package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFormat(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "c34a995e0123456789"}, {Key: "vcs.time", Value: "2026-12-04T17:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, c := range []struct {
		v    string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"dev", bi, true, "v1.4.0 (commit c34a995e0123, 2026-12-04T17:00:00Z, modified, go1.26.8)"},
		{"v2.0.0", bi, true, "v2.0.0 (commit c34a995e0123, 2026-12-04T17:00:00Z, modified, go1.26.8)"},
		{"dev", nil, false, "dev"},
		{"dev", &debug.BuildInfo{}, true, "dev"},
	} {
		if got := Format(c.v, c.bi, c.ok); got != c.want {
			t.Errorf("Format(%q): %q, want %q", c.v, got, c.want)
		}
	}
}
