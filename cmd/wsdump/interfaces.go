package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/capture"
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

// runInterfaces prints one interface per line: index, name, flags and
// addresses (wsdump interfaces, or wsdump -D).
func runInterfaces(w io.Writer) error {
	ifs, err := capture.ListInterfaces()
	if err != nil {
		return inputErr(err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tNAME\tFLAGS\tADDRESSES")
	for _, it := range ifs {
		index := "-"
		if it.Index > 0 {
			index = fmt.Sprint(it.Index)
		}
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{it.Up, "up"}, {it.Running, "running"}, {it.Loopback, "loopback"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		if len(flags) == 0 {
			flags = []string{"down"}
		}
		addrs := it.Description
		if addrs == "" {
			var s []string
			for _, a := range it.Addrs {
				s = append(s, a.String())
			}
			addrs = strings.Join(s, " ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", index, it.Name, strings.Join(flags, ","), addrs)
	}
	if err := tw.Flush(); err != nil {
		return outputErr(err)
	}
	return nil
}
