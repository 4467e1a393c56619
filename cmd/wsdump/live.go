package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

const liveExamples = `  # Live, on one interface, with a tcpdump-style filter
  sudo wsdump -i eth0 tcp port 8080

  # All interfaces, two ports, JSON lines; also save the packets
  sudo wsdump -i any --port 80 --port 443 --format jsonl -w session.pcapng

  # Stop after 100 frames or one minute, whichever comes first
  sudo wsdump -i lo -c 100 --duration 1m host 127.0.0.1 and port 3000`

// liveFlags are the root command's live-capture flags.
type liveFlags struct {
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
	open  func(capture.LiveOptions) (capture.LiveSource, error)
	idle  time.Duration
	ready func()
}

func addLiveFlags(f *pflag.FlagSet, l *liveFlags) {
	f.StringVarP(&l.Interface, "interface", "i", "", "capture live on `IFACE` (\"any\" for all; see wsdump interfaces); trailing arguments are a filter, e.g. tcp port 8080")
	f.StringArrayVar(&l.Hosts, "host", nil, "keep TCP to or from `IP` (repeatable: any of them); with -r, a PATTERN may also match the handshake's Host header (glob or substring)")
	f.StringArrayVar(&l.Ports, "port", nil, "live: keep TCP to or from `PORT` (repeatable: any of them)")
	f.IntVarP(&l.Count, "count", "c", 0, "stop after `N` frames (messages with --messages)")
	f.DurationVar(&l.Duration, "duration", 0, "live: stop after this long (e.g. 30s, 5m)")
	f.StringVarP(&l.WriteFile, "write", "w", "", "live: also write the packets to `FILE` (pcapng), to re-read with -r")
	f.BoolVar(&l.Promisc, "promisc", false, "live: put the interface in promiscuous mode")
	f.BoolVarP(&l.List, "list-interfaces", "D", false, "list the interfaces live capture can use, and exit")
}

// validate checks the live flags against -r and the trailing arguments.
func (l *liveFlags) validate(readFile string, args []string) error {
	if l.Interface == "" {
		if len(args) > 0 && readFile != "" {
			// -r F tcp port 80: the packets of the file are filtered (bpfSource).
			if _, err := capture.ParseFilter(args...); err != nil {
				return usageErr("%q is not a capture filter: %v (a trailing filter selects packets, as in: wsdump -r F tcp port 80)", strings.Join(args, " "), err)
			}
		} else if len(args) > 0 {
			return usageErr("unknown command %q (a capture filter needs -i IFACE, as in: wsdump -i eth0 tcp port 8080)", args[0])
		}
		for _, f := range []struct {
			set  bool
			name string
		}{{len(l.Ports) > 0, "--port"}, // --host and -c filter files too
			{l.Duration != 0, "--duration"}, {l.WriteFile != "", "-w"}, {l.Promisc, "--promisc"}} {
			if f.set {
				return usageErr("%s applies to live capture: give -i IFACE", f.name)
			}
		}
		return nil
	}
	if readFile != "" {
		return usageErr("give -r FILE or -i IFACE, not both")
	}
	if l.Count < 0 {
		return usageErr("-c must not be negative")
	}
	if l.Duration < 0 {
		return usageErr("--duration must not be negative")
	}
	if _, err := l.filter(args); err != nil {
		return usageErr("%v", err)
	}
	return nil
}

// filter combines --host, --port and the trailing expression: any of the
// hosts, and any of the ports, and the expression.
func (l *liveFlags) filter(args []string) (capture.Filter, error) {
	f, err := capture.ParseFilter(args...)
	if err == nil {
		f, err = f.AndAny("host", "--host", l.Hosts)
	}
	if err == nil {
		f, err = f.AndAny("port", "--port", l.Ports)
	}
	return f, err
}

// runLive captures from an interface and prints records as they are
// decoded (pipeline.RunLive), until Ctrl-C, SIGTERM, -c or --duration.
func runLive(ctx context.Context, o *decodeOptions, l *liveFlags, args []string) error {
	// The output flags are checked as for a file.
	check := *o
	check.ReadFile = l.Interface
	if err := check.validate(); err != nil {
		return err
	}
	filter, err := l.filter(args)
	if err != nil {
		return usageErr("%v", err)
	}
	exp, err := report.New(o.Out, report.Options{
		Format: o.Format, AbsTime: o.Time == "abs", Preview: o.Preview, Messages: o.Messages,
		Width: o.Table.width(o.Out), PreviewFixed: o.previewSet, Color: o.Table.Color == "always",
	})
	if err != nil {
		return usageErr("%v", err)
	}
	err = pipeline.RunLive(ctx, &pipeline.Live{
		Open: l.open, Capture: capture.LiveOptions{Interface: l.Interface, Filter: filter, Promiscuous: l.Promisc, IdleInterval: l.idle},
		Exporter: pipeline.AppExporter(exp, o.Decode, false), Count: l.Count, Messages: o.Messages, Duration: l.Duration,
		Write: l.WriteFile, KeyLogs: o.KeyLogs, Options: o.options(wsparse.Config{}, nil), Limits: o.Limits, Ready: l.ready, Err: o.Err,
	})
	var unknown *capture.UnknownInterfaceError
	var we *pipeline.WriteError
	switch {
	case errors.As(err, &unknown):
		return usageErr("%v", err)
	case errors.As(err, &we):
		return outputErr(we.Err)
	case err != nil:
		return inputErr(err)
	}
	return nil
}
