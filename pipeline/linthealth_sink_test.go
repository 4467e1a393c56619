package pipeline

import (
	"runtime"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/prof"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/lint"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

func newLintSink() *lintSink {
	tr := health.New(nil, health.Options{})
	tr.FinishAtEnd()
	tr.AwaitCaptureEnd()
	return &lintSink{tr: tr, l: lint.New(), conns: map[*wsparse.Conn]*lintConn{}}
}

// TestLintSinkOpenConnBytes: lint's sink keeps nothing, nor its tracker,
// for an open connection that neither pinged nor beat (issue 16: 100 000
// open connections), nor for one closed with a Close, once it ended.
func TestLintSinkOpenConnBytes(t *testing.T) {
	const n = 100_000
	cs := synth.Views(n)
	s := newLintSink()
	t0 := time.Unix(1000, 0)
	h := &wsparse.Handshake{Method: "GET", Host: "h", URI: "/x", Status: 101, TS: t0}
	m := &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Index: 1, Len: 64, Frames: 1, TS: t0}
	cl := &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpClose, Fin: true}, Dir: wsparse.ClientToServer, TS: t0}
	end := &wsparse.Summary{End: wsparse.EndClean, First: t0, Last: t0, Handshake: h}
	per := prof.HeapLeftPer(n, func() {
		for i, c := range cs {
			s.Put(&record.Record{Kind: record.Handshake, Conn: c, Handshake: h})
			s.Put(&record.Record{Kind: record.Message, Conn: c, Message: m})
			if i%2 == 0 {
				s.Put(&record.Record{Kind: record.Frame, Conn: c, Frame: cl})
				s.Put(&record.Record{Kind: record.End, Conn: c, Summary: end})
			}
		}
	})
	if per > 4 {
		t.Errorf("%.1f bytes kept per connection without pings or beats, want ~0", per)
	}
	if r := s.tr.Report(); len(r.Conns) != 0 {
		t.Errorf("the tracker has %d connections, want none", len(r.Conns))
	}
	runtime.KeepAlive(s)
	runtime.KeepAlive(cs)
}

// TestLintSinkCloseBeforeBeat: a STOMP session that negotiated
// heart-beats (the keepalive comes at the connection's end, after its
// Closes) and sent none is judged to its first Close, as conns judges
// it: from CONNECTED at 0.5 s to the Close at 30 s, 10 s heart-beats, 2
// missed (to its end at 41 s it would be 4).
func TestLintSinkCloseBeforeBeat(t *testing.T) {
	s := newLintSink()
	c := synth.Views(1)[0]
	t0 := time.Unix(1000, 0)
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	s.Put(&record.Record{Kind: record.Handshake, Conn: c, Handshake: &wsparse.Handshake{Method: "GET", URI: "/stomp", Status: 101, RequestTS: t0, TS: t0}})
	for _, cl := range []struct {
		d  wsparse.Dir
		ts float64
	}{{wsparse.ClientToServer, 30}, {wsparse.ServerToClient, 30.1}} {
		s.Put(&record.Record{Kind: record.Frame, Conn: c, Frame: &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpClose, Fin: true}, Dir: cl.d, TS: at(cl.ts)}})
	}
	for d := range 2 {
		s.Put(&record.Record{Kind: record.Negotiated, Conn: c,
			Negotiated: health.Negotiated{Conn: c.ID, Dir: wsparse.Dir(d), Kind: "stomp", Interval: 10 * time.Second, At: at(0.5)}})
	}
	s.Put(&record.Record{Kind: record.End, Conn: c, Summary: &wsparse.Summary{End: wsparse.EndClean, First: t0, Last: at(41)}})
	r := s.tr.Report()
	if len(r.Conns) != 1 || len(r.Conns[0].Heartbeats) != 2 {
		t.Fatalf("report %+v, want one connection, a series each way", r.Conns)
	}
	for _, hb := range r.Conns[0].Heartbeats {
		if hb.Count != 0 || hb.Missed != 2 {
			t.Errorf("%s %s: %d beats, %d missed (gaps %+v), want none, 2 missed", hb.Kind, hb.Dir, hb.Count, hb.Missed, hb.Gaps)
		}
	}
	if len(s.conns) != 0 {
		t.Errorf("%d connections kept after their End", len(s.conns))
	}
}
