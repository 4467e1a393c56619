package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wsdump/wsdump/capture"
)

// WriteInterfaces writes one interface per line: index, name, flags and
// addresses (wsdump interfaces, or wsdump -D).
func WriteInterfaces(w io.Writer, ifs []capture.Interface) error {
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
	return tw.Flush()
}
