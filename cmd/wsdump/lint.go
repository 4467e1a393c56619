package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/pipeline"
)

const lintExamples = `  # Check a capture; exit status 3 when a finding of severity error exists
  wsdump lint -r session.pcap

  # Several captures, JUnit XML for the CI's test report, fail on warnings too
  wsdump lint --format junit --fail-on warning testdata/*.pcap > lint.xml

  # Only the connections to /api, as JSON lines
  wsdump lint -r session.pcap --path '/api/*' --format jsonl

  # Every rule, its severity and reference
  wsdump lint --rules`

const lintExitHelp = `
Exit status:
  0  no finding at or above --fail-on
  1  usage error
  2  unreadable input
  3  findings at or above --fail-on (error by default)
  5  the output could not be written
  130  interrupted (SIGINT, SIGTERM): the output covers what was read`

func newLintCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &pipeline.LintOptions{Input: pipeline.Input{In: stdin, Err: stderr}, Out: stdout}
	cmd := &cobra.Command{
		Use:   "lint -r FILE [flags] [FILE...]",
		Short: "Check captures against RFC 6455, RFC 7692 and the handshake rules",
		Long: `lint decodes each capture and reports every broken rule as a finding: a
stable rule ID (WS005 client-frame-unmasked), a severity, and where it was
seen (connection, direction, frame or message number, seconds after the
first packet). Every anomaly the decoder knows has a rule; connections that
end without a closing handshake are warnings.

Severities: error for a MUST of the RFCs that an endpoint broke; warning for
legal but suspect traffic and limits a hostile peer may aim at; info for what
the capture lost or wsdump cut, which says nothing about the endpoints.
See --rules for the list.

Heartbeats are judged as conns judges them, with its --heartbeat-text,
--heartbeat-interval and --tolerance: a negotiated STOMP heart-beat or
Engine.IO ping that stopped, pings left unanswered, a heartbeat sent by two
timers or more on one connection (a timer not cleared on reconnect, or two
senders sharing it); the missed beats of a
series whose interval is only inferred are linted only when
--heartbeat-interval declares it: WebSocket pings and pongs, the texts
--heartbeat-text names, and an application's own ping found by itself (a
STOMP SEND to ping) whose period is the declared one within a twentieth (one
of 30 s is another rhythm: name it with --heartbeat-text); SockJS h never:
  wsdump lint -r app.pcap --heartbeat-interval 10s

Reconnects are judged on conns' reconnect groups (a client IP, its tenant, Host and base
URL), with its --storm-attempts and --storm-window: a group conns marks as a
storm, and a group whose attempts after its last WebSocket (or all of them,
when none got one) got no WebSocket up to the end of the capture. An attempt
got a WebSocket when its upgrade was answered 101 (2xx over HTTP/2); a group
of bare TCP connects, with no HTTP request, none accepted, is WS709. With a
filter, a group is linted when the filter selects one of its attempts (a
refused connect by its addresses, number and time, and by a -Y that reads
only a connection's fields), judged on all.` + "\n" + filterHelp,
		Example:       lintExamples,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx = cmd.Context()
			return exitErr(pipeline.RunLint(o, captureArgs(o.Reads, args)))
		},
	}
	cmd.SetUsageTemplate(cmd.UsageTemplate() + lintExitHelp + "\n")
	f := cmd.Flags()
	addInputFlags(f, &o.Input)
	f.StringArrayVarP(&o.Reads, "read", "r", nil, "capture `FILE` to check (repeatable; files may also follow the flags): each argument is one capture, a quoted glob or a directory its files merged by time (see --per-file)")
	f.BoolVar(&o.PerFile, "per-file", false, "each file of the arguments (globs and directories expanded) a capture of its own, decoded in parallel (one file per -j worker)")
	f.StringVar(&o.Format, "format", "table", "output format: table, jsonl or junit")
	f.StringVar(&o.FailOn, "fail-on", "error", "exit 3 when a finding of this `SEVERITY` or above exists: error, warning, info, none")
	f.BoolVar(&o.Stable, "stable", false, "no absolute times in the output (jsonl ts, junit timestamp)")
	f.BoolVar(&o.Rules, "rules", false, "list the rules and exit")
	addHealthFlags(f, &o.HealthFlags)
	addFilterFlags(f, &o.Filter, true)
	cmd.RegisterFlagCompletionFunc("format", completeValues("table", "jsonl", "junit"))
	addCompletions(cmd)
	return cmd
}
