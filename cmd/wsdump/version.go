package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/wsdump/wsdump/internal/buildinfo"
)

// versionString is what --version and wsdump version print after
// "wsdump version " (buildinfo.Version).
func versionString() string { return buildinfo.Version(version) }

func newVersionCmd(_ io.Reader, stdout, _ io.Writer) *cobra.Command {
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
