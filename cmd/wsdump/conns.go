package main

import (
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/pipeline"
)

const connsExamples = `  # One row per connection: how it closed and whether heartbeats flowed
  wsdump conns -r session.pcap

  # SockJS/STOMP browser stack: stompClient.send("ping") every 10 s is found
  # by itself ("stomp SEND ping 10.0s ok"); to name the beats yourself:
  wsdump conns -r app.pcap --heartbeat-text 'ping|pong'

  # Machine-readable: conn and client_group records
  wsdump conns -r session.pcap --format jsonl`

func newConnsCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	opts := &pipeline.ConnsOptions{Input: pipeline.Input{In: stdin, Err: stderr}, Out: stdout}
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
retries of each other. With a filter, a group is of the connections and of the
attempts that never reached WebSocket it selects, as lint selects them.

Heartbeats: WebSocket pings and pongs; the application protocols' own (STOMP
heart-beat, SockJS h, Engine.IO ping/pong, MQTT, GraphQL); and application
heartbeats found by themselves: per direction, a series of small messages of
one key (STOMP command and destination, Socket.IO event, JSON type/op/event/
method, or the whole short text) that keeps a rhythm (at least 4 beats, a
period of 0.5 s or more, intervals within 5 % of it). --heartbeat-text names
the beats instead: it is matched against the whole message and the texts inside
it (the STOMP frame in a SockJS array, its destination and body).
Beats from several timers of one period (a timer not cleared on reconnect,
or two senders sharing the connection: the wire does not say which)
are told apart and each is judged on its own. A gap between two beats of a
timer longer than the interval times --tolerance is late; the interval is the
negotiated one, else --heartbeat-interval (for pings, pongs and
--heartbeat-text's texts: not the application heartbeats found by
themselves, which keep their own period, nor SockJS h, the server's own
timer), else the series' own period (from 3 beats on). A group is a reconnect storm when --storm-attempts attempts of
its retry loop start within --storm-window.`,
		Example:       connsExamples,
		Args:          cobra.ArbitraryArgs, // a capture filter: conns -r F tcp port 80
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.BPF, opts.Ctx = takeFiles(&opts.Reads, args), cmd.Context()
			return exitErr(pipeline.RunConns(opts))
		},
	}
	f := cmd.Flags()
	addInputFlags(f, &opts.Input)
	addDecodeFlag(f, &opts.Decode)
	addFieldsFlags(f, &opts.Fields)
	addReadFlag(f, &opts.Reads)
	addPerFileFlag(f, &opts.PerFile)
	f.StringVar(&opts.Format, "format", "table", "output format: table, jsonl or csv")
	addTableFlags(f, &opts.Table)
	f.StringVar(&opts.Time, "time", "rel", "table start times: rel (seconds since the first packet) or abs (RFC 3339)")
	addHealthFlags(f, &opts.HealthFlags)
	addConnFilterFlags(cmd, &opts.Filter)
	return cmd
}

// addHealthFlags registers the heartbeat and reconnect-storm flags of
// conns, report and lint.
func addHealthFlags(f *pflag.FlagSet, opts *pipeline.HealthFlags) {
	addHeartbeatFlags(f, opts)
	def := pipeline.DefaultHealthFlags()
	f.IntVar(&opts.StormAttempts, "storm-attempts", def.StormAttempts, "reconnect storm: this many attempts ...")
	f.DurationVar(&opts.StormWindow, "storm-window", def.StormWindow, "... starting within this window")
}

// addHeartbeatFlags registers the heartbeat flags of conns, report and
// lint (addHealthFlags).
func addHeartbeatFlags(f *pflag.FlagSet, opts *pipeline.HealthFlags) {
	def := pipeline.DefaultHealthFlags()
	f.StringVar(&opts.HeartbeatText, "heartbeat-text", "", "regular expression matching whole text messages, or the texts inside them (a STOMP frame in SockJS, its destination), that are heartbeats (e.g. 'ping|pong')")
	f.DurationVar(&opts.HeartbeatInterval, "heartbeat-interval", 0, "expected heartbeat interval when none is negotiated, of WebSocket pings and pongs and --heartbeat-text's texts (default: each series' own period; an application's own ping found by itself keeps its own)")
	f.Float64Var(&opts.Tolerance, "tolerance", def.Tolerance, "a gap longer than interval × tolerance counts as missed beats")
}
