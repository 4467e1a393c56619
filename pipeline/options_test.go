package pipeline

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/capture"
)

// TestOptionsValidate: the checks of the commands' flags are usage errors
// naming the flag at fault (cmd/wsdump maps them to exit status 1).
func TestOptionsValidate(t *testing.T) {
	view := func(f func(o *ViewOptions)) *ViewOptions {
		o := &ViewOptions{Format: "table", Time: "rel", Preview: 64}
		f(o)
		return o
	}
	conns := func(f func(o *ConnsOptions)) *ConnsOptions {
		o := &ConnsOptions{Input: Input{Reads: []string{"x.pcap"}}, Format: "table", Time: "rel",
			HealthFlags: HealthFlags{Tolerance: 1.5, StormAttempts: 5, StormWindow: 1}}
		f(o)
		return o
	}
	cases := []struct {
		name string
		err  error
		want string // "" for none
	}{
		{"view ok", view(func(o *ViewOptions) {}).Validate("x.pcap"), ""},
		{"view no input", view(func(o *ViewOptions) {}).Validate(""), "no input"},
		{"view json", view(func(o *ViewOptions) { o.Format = "json" }).Validate("x.pcap"), "--format jsonl)"},
		{"view parquet", view(func(o *ViewOptions) { o.Format = "parquet" }).Validate("x.pcap"), "give it with -o DIR"},
		{"view stable abs", view(func(o *ViewOptions) { o.Stable, o.Time = true, "abs" }).Validate("x.pcap"), "drop --time abs"},
		{"view -e", view(func(o *ViewOptions) { o.Fields.Fields = []string{"len"} }).Validate("x.pcap"), "-e and -E go with -T fields"},
		{"view -e unknown", view(func(o *ViewOptions) { o.Fields = Fields{T: "fields", Fields: []string{"nope"}} }).Validate("x.pcap"), "-e nope: no such field"},
		{"view width", view(func(o *ViewOptions) { o.Table.Width = -1 }).Validate("x.pcap"), "--width"},
		{"view decode", view(func(o *ViewOptions) { o.Decode = "x" }).Validate("x.pcap"), "--decode must be one of"},
		{"conns ok", conns(func(o *ConnsOptions) {}).Validate(), ""},
		{"conns bpf", conns(func(o *ConnsOptions) { o.BPF = []string{"udp"} }).Validate(), "wsdump conns -r F tcp port 80"},
		{"conns tolerance", conns(func(o *ConnsOptions) { o.Tolerance = 0.5 }).Validate(), "--tolerance"},
		{"conns heartbeat-text", conns(func(o *ConnsOptions) { o.HeartbeatText = "(" }).Validate(), "--heartbeat-text"},
		{"report no output", (&ReportOptions{ConnsOptions: *conns(func(o *ConnsOptions) {})}).Validate(), "no output"},
		{"lint no input", RunLint(&LintOptions{}, nil), "no input"},
		{"lint fail-on", RunLint(&LintOptions{FailOn: "x"}, []string{"x.pcap"}), "--fail-on"},
		{"follow max-bytes", RunFollow(&FollowOptions{Input: Input{Reads: []string{"x.pcap"}}, MaxBytes: -1}), "--max-bytes"},
		{"export no -o", RunExport(&ExportOptions{Input: Input{Reads: []string{"x.pcap"}}}), "-o DIR"},
		{"diff context", RunDiff(&DiffOptions{MaxDiffs: 1, Context: 1}, []string{"a", "b"}), "--context at least 4"},
		{"diff one capture", RunDiff(&DiffOptions{MaxDiffs: 1, Context: 4}, []string{"a"}), "two captures"},
		{"live both", (&LiveOptions{Interface: "lo"}).Validate("x.pcap", nil), "not both"},
	}
	for _, tc := range cases {
		var ue *UsageError
		switch {
		case tc.want == "" && tc.err != nil:
			t.Errorf("%s: %v", tc.name, tc.err)
		case tc.want == "":
		case !errors.As(tc.err, &ue) || !strings.Contains(tc.err.Error(), tc.want):
			t.Errorf("%s: %T %v, want a usage error with %q", tc.name, tc.err, tc.err, tc.want)
		}
	}
}

// TestUnread: an unreadable input lets the other files of a run be read;
// a usage error, a failed write and an interruption stop it.
func TestUnread(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false}, {errors.New("x.pcap: not a capture"), true}, {Usagef("bad"), false},
		{&WriteError{io.ErrShortWrite}, false}, {capture.ErrInterrupted, false},
	} {
		if got := unread(tc.err); got != tc.want {
			t.Errorf("unread(%v) = %v", tc.err, got)
		}
	}
}
