package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

const connsExamples = `  # One row per connection: how it closed and whether heartbeats flowed
  wsdump conns -r session.pcap

  # SockJS/STOMP browser stack: stompClient.send("ping") every 10 s is found
  # by itself ("stomp SEND ping 10.0s ok"); to name the beats yourself:
  wsdump conns -r app.pcap --heartbeat-text 'ping|pong'

  # Machine-readable: conn and client_group records
  wsdump conns -r session.pcap --format jsonl`

// connsOptions holds the flags and the IO of the conns command.
type connsOptions struct {
	Ctx      context.Context // reading stops when it ends (nil: never)
	In       io.Reader
	Out, Err io.Writer

	ReadFile          string   // names the inputs in messages
	Reads             []string // -r
	Format            string
	Time              string
	HeartbeatText     string
	HeartbeatInterval time.Duration
	Tolerance         float64
	StormAttempts     int
	StormWindow       time.Duration
	Decode            string
	Filter            filterFlags
	Fields            fieldsFlags
	fields            bool
	Table             tableFlags // --width, -o wide, --color
	inputFlags                   // --keylog, --ws-port, -j, the limits

	textRE *regexp.Regexp
	BPF    []string // conns -r F tcp port 80
}

func newConnsCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	opts := &connsOptions{In: stdin, Out: stdout, Err: stderr}
	cmd := &cobra.Command{
		Use:   "conns -r FILE [flags]",
		Short: "Connection health: closes, ping/pong, heartbeats, reconnects",
		Long: `conns prints one row per WebSocket connection (or refused upgrade): endpoints,
URL, traffic per direction, how it closed and its heartbeat health, then the
reconnect groups: a client's attempts to reach one application (client IP,
Host and base URL: SockJS's prefix, Socket.IO's path), every TCP connect to its
server refused or unanswered and the HTTP requests before an upgrade (SockJS
/info, the Engine.IO handshake) included, with the outage from a good
connection's end to the next one's start and the rhythm of the retries
(fixed, exponential, increasing, random). Connections that overlap are never
retries of each other. With a connection filter, only WebSocket connections and
upgrade requests are attempts.

Heartbeats: WebSocket pings and pongs; the application protocols' own (STOMP
heart-beat, SockJS h, Engine.IO ping/pong, MQTT, GraphQL); and application
heartbeats found by themselves: per direction, a series of small messages of
one key (STOMP command and destination, Socket.IO event, JSON type/op/event/
method, or the whole short text) that keeps a rhythm (at least 4 beats, a
period of 0.5 s or more, intervals within 5 % of it). --heartbeat-text names
the beats instead: it is matched against the whole message and the texts inside
it (the STOMP frame in a SockJS array, its destination and body).
Beats from several timers of one period (a timer not cleared on reconnect)
are told apart and each is judged on its own. A gap between two beats of a
timer longer than the interval times --tolerance is late; the interval is the
negotiated one, else --heartbeat-interval (for pings, pongs, texts and
application heartbeats: not SockJS h, the server's own timer), else the
series' own period (from 3 beats on). A group is a reconnect storm when --storm-attempts attempts of
its retry loop start within --storm-window.`,
		Example:       connsExamples,
		Args:          cobra.ArbitraryArgs, // a capture filter: conns -r F tcp port 80
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			args = takeFiles(&opts.Reads, args)
			if err := opts.validate(); err != nil {
				return err
			}
			if len(args) > 0 {
				if _, err := capture.ParseFilter(args...); err != nil {
					return usageErr("%q is not a capture filter: %v (a trailing filter selects packets, as in: wsdump conns -r F tcp port 80)", strings.Join(args, " "), err)
				}
			}
			opts.BPF = args
			opts.Ctx = cmd.Context()
			return runConns(opts)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	f := cmd.Flags()
	addInputFlags(f, &opts.inputFlags)
	addDecodeFlag(f, &opts.Decode)
	addFieldsFlags(f, &opts.Fields)
	addReadFlag(f, &opts.Reads)
	addPerFileFlag(f, &opts.PerFile)
	f.StringVar(&opts.Format, "format", "table", "output format: table, jsonl or csv")
	addTableFlags(f, &opts.Table)
	f.StringVar(&opts.Time, "time", "rel", "table start times: rel (seconds since the first packet) or abs (RFC 3339)")
	addHealthFlags(f, opts)
	addConnFilterFlags(cmd, &opts.Filter)
	return cmd
}

// addHealthFlags registers the heartbeat and reconnect-storm flags of
// conns and report.
func addHealthFlags(f *pflag.FlagSet, opts *connsOptions) {
	f.StringVar(&opts.HeartbeatText, "heartbeat-text", "", "regular expression matching whole text messages, or the texts inside them (a STOMP frame in SockJS, its destination), that are heartbeats (e.g. 'ping|pong')")
	f.DurationVar(&opts.HeartbeatInterval, "heartbeat-interval", 0, "expected heartbeat interval when none is negotiated (default: each series' own period)")
	f.Float64Var(&opts.Tolerance, "tolerance", 1.5, "a gap longer than interval × tolerance counts as missed beats")
	f.IntVar(&opts.StormAttempts, "storm-attempts", 5, "reconnect storm: this many attempts ...")
	f.DurationVar(&opts.StormWindow, "storm-window", 10*time.Second, "... starting within this window")
}

func (o *connsOptions) validate() error {
	if len(o.Reads) > 0 {
		o.ReadFile = inputsName(o.Reads)
	}
	if o.ReadFile == "" {
		return usageErr("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	var err error
	if o.fields, err = o.Fields.validate(); err != nil {
		return err
	}
	if o.Format != "table" && o.Format != "jsonl" && o.Format != "csv" {
		return usageErr("--format must be one of table, jsonl, csv, not %q%s", o.Format, formatHint(o.Format))
	}
	if err := o.Table.validate(); err != nil {
		return err
	}
	if o.Time != "rel" && o.Time != "abs" {
		return usageErr("--time must be rel or abs, not %q", o.Time)
	}
	if err := checkDecode(&o.Decode); err != nil {
		return err
	}
	if o.HeartbeatText != "" {
		re, err := regexp.Compile(o.HeartbeatText)
		if err != nil {
			return usageErr("--heartbeat-text: %v", err)
		}
		o.textRE = re
	}
	if o.HeartbeatInterval < 0 {
		return usageErr("--heartbeat-interval must not be negative")
	}
	if o.Tolerance < 1 {
		return usageErr("--tolerance must be at least 1")
	}
	if o.StormAttempts < 2 || o.StormWindow <= 0 {
		return usageErr("--storm-attempts must be at least 2 and --storm-window positive")
	}
	return nil
}

func (o *connsOptions) health() health.Options {
	return health.Options{
		HeartbeatText: o.textRE, HeartbeatInterval: o.HeartbeatInterval, Tolerance: o.Tolerance,
		StormAttempts: o.StormAttempts, StormWindow: o.StormWindow,
	}
}

// runConns reads the capture through the tracker and writes the report.
func runConns(o *connsOptions) error {
	if o.PerFile {
		fixTable(&o.Table, o.Out)
		return runPerFile(o.Reads, o.Jobs, perFileLabel(o.Format, o.fields), o.Out, o.Err, func(f string, out, errw io.Writer) error {
			one := *o
			one.PerFile, one.Reads, one.ReadFile, one.Out, one.Err, one.Jobs = false, []string{f}, f, out, errw, 1
			return runConns(&one)
		})
	}
	rd, err := o.read(nil)
	if err != nil {
		return err
	}
	v := report.ConnsView{Format: o.Format, Health: o.health(),
		Table: report.ConnsTableOptions{Origin: rd.Origin, AbsTime: o.Time == "abs", Width: o.Table.width(o.Out)}}
	if o.fields {
		v.Fields, v.Header = o.Fields.Fields, o.Fields.header
	}
	if err := report.WriteConns(o.Out, rd.Report, v); err != nil {
		return outputErr(err)
	}
	return readError(rd.ReadErr)
}

// read reads the capture as conns does (pipeline.Conns; next, when not
// nil, receives every record behind the tracker). err is an error before
// reading.
func (o *connsOptions) read(next wsparse.Sink) (pipeline.ConnsRead, error) {
	src, err := o.openInputs(o.Ctx, o.Reads, o.In, o.Err)
	if err != nil {
		return pipeline.ConnsRead{}, inputErr(err)
	}
	if len(o.BPF) > 0 {
		if src, err = newBPFSource(src, o.BPF, o.Err); err != nil {
			return pipeline.ConnsRead{}, err
		}
	}
	defer src.Close()
	spec, x, err := o.Filter.connSpec()
	if err != nil {
		return pipeline.ConnsRead{}, err
	}
	keys, err := o.loadKeys(o.Err)
	if err != nil {
		return pipeline.ConnsRead{}, err
	}
	return pipeline.Conns(pipeline.ConnsOptions{Health: o.health(), Decode: o.Decode, Spec: spec, Select: x,
		Reassembly: o.options(wsparse.Config{}, keys), Jobs: o.Jobs, Next: next, Err: o.Err},
		func(asm pipeline.Assembler, origin func(time.Time)) error {
			return feed(src, asm, o.ReadFile, keys, origin)
		}), nil
}
