package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// versionString is what --version and wsdump version print after
// "wsdump version ": the version set at build time (-ldflags
// "-X main.version=..."), else the module's (v1.2.3 from go install
// ...@v1.2.3, "(devel)" from a checkout), with the VCS revision, its time
// and whether the tree was modified, as the go command stamped them.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	return formatVersion(version, bi, ok)
}

func formatVersion(v string, bi *debug.BuildInfo, ok bool) string {
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

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:           "version",
		Short:         "Print the version, VCS revision and Go version",
		Example:       "  wsdump version\n  wsdump --version",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(stdout, "wsdump version %s\n", versionString())
			return err
		},
	}
}
