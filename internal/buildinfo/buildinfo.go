// Package buildinfo formats a program's version from what the go command
// stamped in the binary.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Version is v (set at build time with -ldflags "-X main.version=..."; "dev"
// otherwise, when the module's version is used: v1.2.3 from go install
// ...@v1.2.3, "(devel)" from a checkout), with the VCS revision, its time
// and whether the tree was modified, as the go command stamped them.
func Version(v string) string {
	bi, ok := debug.ReadBuildInfo()
	return Format(v, bi, ok)
}

// Format is Version for the build information bi (ok: there is some).
func Format(v string, bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return v
	}
	if v == "dev" && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	var parts []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		parts = append(parts, "commit "+rev)
	}
	if at != "" {
		parts = append(parts, at)
	}
	if modified == "true" {
		parts = append(parts, "modified")
	}
	if bi.GoVersion != "" {
		parts = append(parts, bi.GoVersion)
	}
	if len(parts) == 0 {
		return v
	}
	return v + " (" + strings.Join(parts, ", ") + ")"
}
