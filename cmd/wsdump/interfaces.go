package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/report"
)

func newInterfacesCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:           "interfaces",
		Short:         "List the interfaces live capture (-i) can use",
		Example:       "  # Index, name, flags and addresses of each interface (the same as wsdump -D)\n  wsdump interfaces",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInterfaces(stdout)
		},
	}
}

// runInterfaces lists the interfaces (wsdump interfaces, or wsdump -D).
func runInterfaces(w io.Writer) error {
	ifs, err := capture.ListInterfaces()
	if err != nil {
		return inputErr(err)
	}
	if err := report.WriteInterfaces(w, ifs); err != nil {
		return outputErr(err)
	}
	return nil
}
