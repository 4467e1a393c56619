package pipeline

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// LiveOptions are the main command's live-capture flags (wsdump -i IFACE).
type LiveOptions struct {
	Interface string
	Hosts     []string
	Ports     []string
	Count     int
	Duration  time.Duration
	WriteFile string
	Promisc   bool
	List      bool // -D

	// Seams for tests: the capture to open, its idle interval, and a hook
	// called once packets are being read and signals are caught.
	Open  func(capture.LiveOptions) (capture.LiveSource, error)
	Idle  time.Duration
	Ready func()
}

// Validate checks the live flags against -r (readFile names its inputs)
// and the trailing arguments.
func (l *LiveOptions) Validate(readFile string, args []string) error {
	if l.Interface == "" {
		if len(args) > 0 && readFile != "" {
			// -r F tcp port 80: the packets of the file are filtered (BPFSource).
			if _, err := capture.ParseFilter(args...); err != nil {
				return Usagef("%q is not a capture filter: %v (a trailing filter selects packets, as in: wsdump -r F tcp port 80)", strings.Join(args, " "), err)
			}
		} else if len(args) > 0 {
			return Usagef("unknown command %q (a capture filter needs -i IFACE, as in: wsdump -i eth0 tcp port 8080)", args[0])
		}
		for _, f := range []struct {
			set  bool
			name string
		}{{len(l.Ports) > 0, "--port"}, // --host and -c filter files too
			{l.Duration != 0, "--duration"}, {l.WriteFile != "", "-w"}, {l.Promisc, "--promisc"}} {
			if f.set {
				return Usagef("%s applies to live capture: give -i IFACE", f.name)
			}
		}
		return nil
	}
	if readFile != "" {
		return Usagef("give -r FILE or -i IFACE, not both")
	}
	if l.Count < 0 {
		return Usagef("-c must not be negative")
	}
	if l.Duration < 0 {
		return Usagef("--duration must not be negative")
	}
	if _, err := l.Filter(args); err != nil {
		return Usagef("%v", err)
	}
	return nil
}

// Filter combines --host, --port and the trailing expression: any of the
// hosts, and any of the ports, and the expression.
func (l *LiveOptions) Filter(args []string) (capture.Filter, error) {
	f, err := capture.ParseFilter(args...)
	if err == nil {
		f, err = f.AndAny("host", "--host", l.Hosts)
	}
	if err == nil {
		f, err = f.AndAny("port", "--port", l.Ports)
	}
	return f, err
}

// RunLiveView captures from an interface and prints records as they are
// decoded (RunLive), until Ctrl-C, SIGTERM, -c or --duration; o are the
// output flags, checked as for a file, args the filter expression.
func RunLiveView(ctx context.Context, o *ViewOptions, l *LiveOptions, args []string) error {
	check := *o
	if err := check.Validate(l.Interface); err != nil {
		return err
	}
	filter, err := l.Filter(args)
	if err != nil {
		return Usagef("%v", err)
	}
	exp, err := report.New(o.Out, report.Options{
		Format: o.Format, AbsTime: o.Time == "abs", Preview: o.Preview, Messages: o.Messages,
		Width: o.Table.width(o.Out), PreviewFixed: o.PreviewSet, Color: o.Table.Color == "always",
	})
	if err != nil {
		return Usagef("%v", err)
	}
	err = RunLive(ctx, &Live{
		Open: l.Open, Capture: capture.LiveOptions{Interface: l.Interface, Filter: filter, Promiscuous: l.Promisc, IdleInterval: l.Idle},
		Exporter: AppExporter(exp, o.Decode, false), Count: l.Count, Messages: o.Messages, Duration: l.Duration,
		Write: l.WriteFile, KeyLogs: o.KeyLogs, Options: o.Options(wsparse.Config{}, nil), Limits: o.Limits, Ready: l.Ready, Err: o.Err,
	})
	var unknown *capture.UnknownInterfaceError
	if errors.As(err, &unknown) {
		return Usagef("%v", err)
	}
	return err
}

// RunMain is the main command: a live capture (l.Interface) or the view
// of the files o.Reads; args is the trailing filter expression.
func RunMain(ctx context.Context, o *ViewOptions, l *LiveOptions, args []string) error {
	name := ""
	if len(o.Reads) > 0 {
		name = InputsName(o.Reads)
	}
	if err := l.Validate(name, args); err != nil {
		return err
	}
	if l.Interface != "" {
		if o.Filter.Set() || o.Stable {
			return Usagef("the filters and --stable apply to -r FILE (live capture takes --host, --port, -c and a filter expression)")
		}
		return RunLiveView(ctx, o, l, args)
	}
	o.Filter.Hosts, o.Filter.Count = l.Hosts, l.Count
	o.BPF = args
	o.Ctx = ctx
	if err := o.Validate(name); err != nil {
		return err
	}
	return RunView(o)
}

// RunInterfaces lists the interfaces live capture can use (wsdump
// interfaces, or wsdump -D).
func RunInterfaces(w io.Writer) error {
	ifs, err := capture.ListInterfaces()
	if err != nil {
		return err
	}
	if err := report.WriteInterfaces(w, ifs); err != nil {
		return &WriteError{err}
	}
	return nil
}
