package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// sliceSource hands out packets (link 1, Ethernet), then io.EOF; an idle
// tick where a packet has no data.
type sliceSource struct {
	pkts   []synth.Packet
	link   capture.LinkType
	closed atomic.Bool // RunLive closes it from its ctx goroutine and on return, as the live source allows
}

func (s *sliceSource) Secrets() []capture.Secrets { return nil }
func (s *sliceSource) Input() string              { return "" }

func (s *sliceSource) Next() (capture.Packet, error) {
	if len(s.pkts) == 0 || s.closed.Load() {
		return capture.Packet{}, io.EOF
	}
	p := s.pkts[0]
	s.pkts = s.pkts[1:]
	return capture.Packet{Timestamp: p.TS, Data: p.Data, CaptureLength: len(p.Data), Length: len(p.Data), Link: s.link}, nil
}

func (s *sliceSource) Close() error                      { s.closed.Store(true); return nil }
func (s *sliceSource) LinkType() capture.LinkType        { return s.link }
func (s *sliceSource) Stats() (received, dropped uint64) { return 7, 1 }

func frames(n int) []synth.Packet {
	c := synth.New("10.0.0.1:40000", "10.0.0.2:80").Open().Upgrade()
	for i := 0; i < n; i++ {
		c.Frame(true, wsparse.OpText, []byte("hello"))
	}
	return c.Fin(true).Fin(false).Packets
}

// TestFeed: Feed gives the first packet's time to Origin, calls AtEOF at
// the end, and refuses a link type the reassembly does not read, naming
// the input as told.
func TestFeed(t *testing.T) {
	pkts := frames(2)
	var lines []string
	asm := New(kinds(&lines), reassembly.Options{}, 1)
	var origin time.Time
	eof := 0
	err := Feed(&sliceSource{pkts: pkts, link: 1}, asm, FeedOptions{Name: "x", Origin: func(t time.Time) { origin = t }, AtEOF: func() { eof++ }})
	asm.Finish()
	if err != nil || !origin.Equal(pkts[0].TS) || eof != 1 {
		t.Errorf("error %v, origin %v (want %v), AtEOF called %d times", err, origin, pkts[0].TS, eof)
	}
	if n := strings.Count(strings.Join(lines, "\n"), "frame"); n != 2 {
		t.Errorf("%d frames:\n%s", n, strings.Join(lines, "\n"))
	}
	err = Feed(&sliceSource{pkts: pkts, link: 9999}, New(kinds(&lines), reassembly.Options{}, 1), FeedOptions{Name: DisplayName("-")})
	if err == nil || !strings.HasPrefix(err.Error(), "standard input: unsupported link type") {
		t.Errorf("error %v", err)
	}
}

// TestDecodeCount: with -c the reading stops once the filter has let
// enough through and the connections shown have ended.
func TestDecodeCount(t *testing.T) {
	var lines []string
	later := synth.New("10.0.0.3:40001", "10.0.0.2:80").At(500000).Open().Upgrade()
	for i := 0; i < 20; i++ {
		later.Frame(true, wsparse.OpText, []byte("later"))
	}
	src := &sliceSource{pkts: append(frames(2), later.Packets...), link: 1}
	before := len(src.pkts)
	_, err := Decode(src, kinds(&lines), filter.Spec{Count: 1}, false, reassembly.Options{}, 4, FeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(src.pkts) == 0 || len(src.pkts) == before {
		t.Errorf("%d of %d packets left unread: want the reading stopped after the first frame", len(src.pkts), before)
	}
}

// TestLoadKeys: lines that are not secrets are said, not fatal; a missing
// file is an error naming the flag.
func TestLoadKeys(t *testing.T) {
	name := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(name, []byte("CLIENT_RANDOM "+strings.Repeat("ab", 32)+" "+strings.Repeat("cd", 48)+"\nnot a key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	keys, err := LoadKeys([]string{name}, &stderr)
	if err != nil || keys.Len() != 1 || !strings.Contains(stderr.String(), ": 1 line is not a key log entry, skipped") {
		t.Errorf("keys %v, error %v, stderr %q", keys, err, stderr.String())
	}
	if _, err := LoadKeys([]string{name + ".missing"}, &stderr); err == nil || !strings.HasPrefix(err.Error(), "--keylog: ") {
		t.Errorf("missing file: %v", err)
	}
}

// TestRunLiveCount: -c 1 passes one frame, the connection's summary, and
// stops reading; the counters are said on Err.
func TestRunLiveCount(t *testing.T) {
	var out, stderr bytes.Buffer
	exp, err := report.New(&out, report.Options{Format: "jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	src := &sliceSource{pkts: frames(5), link: 1}
	ready := false
	err = RunLive(context.Background(), &Live{
		Open:     func(capture.LiveOptions) (capture.LiveSource, error) { return src, nil },
		Capture:  capture.LiveOptions{Interface: "lo"},
		Exporter: exp, Count: 1, Ready: func() { ready = true }, Err: &stderr,
	})
	if err != nil || !ready {
		t.Fatalf("error %v, ready %v", err, ready)
	}
	got := out.String()
	if n := strings.Count(got, `"type":"frame"`); n != 1 || !strings.Contains(got, `"type":"conn"`) {
		t.Errorf("%d frames, want 1 and the summary:\n%s", n, got)
	}
	if !strings.Contains(stderr.String(), "wsdump: listening on lo, link-type ") ||
		!strings.Contains(stderr.String(), "packets captured, 7 received by filter, 1 dropped by kernel") {
		t.Errorf("stderr %q", stderr.String())
	}

	failed := errors.New("no such device")
	err = RunLive(context.Background(), &Live{Open: func(capture.LiveOptions) (capture.LiveSource, error) { return nil, failed }, Err: &stderr})
	if err != failed {
		t.Errorf("open error %v, want it as it is", err)
	}
}

var _ record.Sink = (*liveSink)(nil)
