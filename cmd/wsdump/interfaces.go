package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/pipeline"
)

func newInterfacesCmd(_ io.Reader, stdout, _ io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:           "interfaces",
		Short:         "List the interfaces live capture (-i) can use",
		Example:       "  # Index, name, flags and addresses of each interface (the same as wsdump -D)\n  wsdump interfaces",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitErr(pipeline.RunInterfaces(stdout))
		},
	}
}
