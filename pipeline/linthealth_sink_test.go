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
	tr.HeadsAtEnd()
	return &lintSink{tr: tr, l: lint.New()}
}

// TestLintSinkConnBytes: lint's sink gives its tracker every connection
// (its reconnect groups need them all), and the tracker keeps little of
// each: of an open connection that neither pinged nor beat, its
// response time in a page (HeadsAtEnd: issue 16's 100 000 open
// connections), of one that ended, its head with its end packed in it.
func TestLintSinkConnBytes(t *testing.T) {
	const n = 100_000
	t0 := time.Unix(1000, 0)
	h := &wsparse.Handshake{Method: "GET", Host: "h", URI: "/x", Status: 101, TS: t0, RequestTS: t0}
	m := &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Index: 1, Len: 64, Frames: 1, TS: t0}
	cl := &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpClose, Fin: true}, Dir: wsparse.ClientToServer, TS: t0}
	end := &wsparse.Summary{End: wsparse.EndClean, First: t0, Last: t0, Handshake: h}
	for _, c := range []struct {
		name  string
		ended bool
		max   float64
	}{{"open", false, 12}, {"ended", true, 180}} {
		cs := synth.Views(n)
		s := newLintSink()
		per := prof.HeapLeftPer(n, func() {
			for _, conn := range cs {
				s.Put(&record.Record{Kind: record.Handshake, Conn: conn, Handshake: h})
				s.Put(&record.Record{Kind: record.Message, Conn: conn, Message: m})
				if c.ended {
					s.Put(&record.Record{Kind: record.Frame, Conn: conn, Frame: cl})
					s.Put(&record.Record{Kind: record.End, Conn: conn, Summary: end})
				}
			}
		})
		t.Logf("%s: %.1f bytes kept per connection", c.name, per)
		if per > c.max {
			t.Errorf("%s: %.1f bytes kept per connection, want at most %.0f", c.name, per, c.max)
		}
		if c.ended {
			if r := s.tr.Report(); len(r.Conns) != n {
				t.Errorf("the tracker has %d connections, want %d", len(r.Conns), n)
			}
		}
		runtime.KeepAlive(s)
		runtime.KeepAlive(cs)
	}
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
}
