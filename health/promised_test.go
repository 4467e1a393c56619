package health

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// stompConv is a STOMP connection: CONNECTED at 100 ms agreed 10 s
// heart-beats both ways; the client beats every 10 s from 10 s to lastC2S
// ms; the server sends a frame at each of s2cFrames (ms) and no EOL
// beat. It ends at endMS (a FIN, no Close).
func stompConv(t *testing.T, o Options, finish bool, lastC2S, endMS int, s2cFrames ...int) *Conn {
	t.Helper()
	tr := New(nil, o)
	if finish {
		tr.FinishAtEnd()
	}
	v := newConv(tr, 1, "10.0.0.1:5000", 101, "/stomp", 0)
	for ms := 10000; ms <= lastC2S; ms += 10000 {
		tr.Beat(Beat{Conn: 1, Dir: wsparse.ClientToServer, TS: at(ms), Kind: "stomp"})
	}
	for _, ms := range s2cFrames {
		tr.Beat(Beat{Conn: 1, Dir: wsparse.ServerToClient, TS: at(ms), Kind: KindSTOMPFrame})
	}
	for d := range 2 {
		tr.Negotiated(Negotiated{Conn: 1, Dir: wsparse.Dir(d), Kind: "stomp", Interval: 10 * time.Second, At: at(100)})
	}
	return v.end(endMS, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)
}

// TestHealthPromisedNoBeat: the server promised 10 s heart-beats
// (CONNECTED heart-beat:10000,...) and sent none in 45 s: a series of no
// beats, its interval the negotiated one, its 4 missed beats in one
// trailing gap from the CONNECTED. Until session 36 there was no series
// (no beat made one) and the glance said the client's beats were fine.
func TestHealthPromisedNoBeat(t *testing.T) {
	for _, finish := range []bool{false, true} {
		c := stompConv(t, Options{}, finish, 40000, 45100)
		var s *Series
		for _, x := range c.Heartbeats {
			if x.Kind == "stomp" && x.Dir == wsparse.ServerToClient {
				s = x
			}
		}
		if s == nil {
			t.Fatalf("finish %v: no s2c stomp series: %+v", finish, c.Heartbeats)
		}
		if s.Count != 0 || s.Interval != 10*time.Second || s.IntervalSource != "negotiated" || s.Missed != 4 ||
			len(s.Gaps) != 1 || !s.Gaps[0].From.Equal(at(100)) || !s.Gaps[0].To.Equal(at(45100)) || !s.Gaps[0].Trailing ||
			s.MaxGap != 45*time.Second || c.Healthy() {
			t.Errorf("finish %v: %+v (gaps %+v), want 0 beats, 10s negotiated, 4 missed in one trailing gap from 0.1 s to 45.1 s", finish, s, s.Gaps)
		}
		want := "stomp heart-beat c2s 10.0s ok; stomp heart-beat s2c 10.0s 4 missed (none in 45.0s since negotiated)"
		if g := Glance(c); g != want {
			t.Errorf("finish %v: glance %q, want %q", finish, g, want)
		}
	}
}

// TestHealthPromisedFramesAlive: no EOL beat, but a frame every 8 s is a
// sign of life (STOMP 1.2 § Heart-beating): nothing missed until the
// frames stop; then the gap from the last frame to the end.
func TestHealthPromisedFramesAlive(t *testing.T) {
	c := stompConv(t, Options{}, false, 40000, 40100, 8000, 16000, 24000, 32000, 40000)
	s := c.Heartbeats[len(c.Heartbeats)-1]
	if s.Dir != wsparse.ServerToClient || s.Count != 0 || s.Missed != 0 || len(s.Gaps) != 0 {
		t.Errorf("%+v, want an s2c series of no beats, none missed", s)
	}
	if g, want := Glance(c), "stomp heart-beat c2s 10.0s ok; stomp heart-beat s2c 10.0s no beat, other frames on time"; g != want {
		t.Errorf("glance %q, want %q", g, want)
	}
	c = stompConv(t, Options{}, false, 60000, 60100, 8000, 16000)
	s = c.Heartbeats[len(c.Heartbeats)-1]
	if s.Missed != 4 || len(s.Gaps) != 1 || !s.Gaps[0].From.Equal(at(16000)) || !s.Gaps[0].Trailing {
		t.Errorf("%+v (gaps %+v), want 4 missed from the last frame at 16 s", s, s.Gaps)
	}
}

// TestHealthStoppedSeries: beats that stop 35 s before the end say so.
func TestHealthStoppedSeries(t *testing.T) {
	c := stompConv(t, Options{}, false, 20000, 55000, 10000, 20000)
	// The s2c frames at 10 and 20 s are signs of life: its gap is from 20 s.
	want := "stomp heart-beat c2s 10.0s 3 missed (max gap 35.0s, none in the last 35.0s); stomp heart-beat s2c 10.0s 3 missed (none in 54.9s since negotiated)"
	if g := Glance(c); g != want {
		t.Errorf("glance %q, want %q", g, want)
	}
}

// TestHealthClockStepBack: the capture's clock steps back an hour (an NTP
// step) in the middle of a 10 s series. In time order the beats after the
// step came an hour before those before it, with an hour between them:
// until session 36 that was one late gap of 359 missed beats. Now the
// series is cut at the step, each run judged on its own, and the step
// counted.
func TestHealthClockStepBack(t *testing.T) {
	tr := New(nil, Options{})
	v := newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0)
	var ms []int
	for i := 1; i <= 6; i++ {
		ms = append(ms, i*10000) // 10 .. 60 s
	}
	for i := 1; i <= 6; i++ {
		ms = append(ms, 60000-3600000+i*10000) // an hour back: -3530 .. -3480 s
	}
	for _, m := range ms {
		tr.Beat(Beat{Conn: 1, Dir: wsparse.ClientToServer, TS: at(m), Kind: "stomp"})
	}
	tr.Negotiated(Negotiated{Conn: 1, Dir: wsparse.ClientToServer, Kind: "stomp", Interval: 10 * time.Second, At: at(100)})
	tr.Negotiated(Negotiated{Conn: 1, Dir: wsparse.ServerToClient, Kind: "stomp", At: at(100)})
	c := v.end(60000, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)
	s := seriesKind(c, "stomp")
	if s == nil || s.Count != 12 || s.Missed != 0 || len(s.Gaps) != 0 || s.ClockSteps != 1 || s.MaxGap > 11*time.Second || s.MaxGap < 0 {
		t.Fatalf("%+v (gaps %+v), want 12 beats, none missed, 1 clock step, max gap 10 s", s, s.Gaps)
	}
	if g, want := Glance(c), "stomp heart-beat c2s 10.0s clock stepped back"; g != want {
		t.Errorf("glance %q, want %q", g, want)
	}
	// The same beats in time order but for a small reordering (a
	// retransmission): no step.
	if segs := clockSegments([]time.Time{at(0), at(10000), at(9500), at(20000)}); segs != nil {
		t.Errorf("a 0.5 s reordering cut the series into %d runs", len(segs))
	}
}

// TestHealthPromisedClockStepBack: the connection's end before the
// negotiation (its clock stepped back in between): no gap of a negative
// length, no missed beats, the step counted.
func TestHealthPromisedClockStepBack(t *testing.T) {
	tr := New(nil, Options{})
	v := newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0)
	tr.Negotiated(Negotiated{Conn: 1, Dir: wsparse.ServerToClient, Kind: "stomp", Interval: 10 * time.Second, At: at(100000)})
	c := v.end(50000, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)
	if len(c.Heartbeats) != 1 {
		t.Fatalf("%d series, want 1", len(c.Heartbeats))
	}
	if s := c.Heartbeats[0]; s.Missed != 0 || len(s.Gaps) != 0 || s.MaxGap != 0 || s.ClockSteps != 1 {
		t.Errorf("%+v, want no gap, the step counted", s)
	}
}

// TestHealthClockStepBackDuration: a connection whose last bytes were
// captured an hour before its first (the clock stepped back while it was
// open) has no true duration: the report counts it (ClockStepped, the
// notice of conns), with or without FinishAtEnd; one that did not is not.
func TestHealthClockStepBackDuration(t *testing.T) {
	for _, finish := range []bool{false, true} {
		tr := New(nil, Options{})
		if finish {
			tr.FinishAtEnd()
		}
		newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0).end(-3600000, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)
		newConv(tr, 2, "10.0.0.1:5001", 101, "/ws", 0).end(5000, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)
		if n := tr.Report().ClockStepped; n != 1 {
			t.Errorf("finish %v: %d connections stepped, want 1", finish, n)
		}
	}
}

// TestHealthPromisedNoneDue: a STOMP session that ends 3 s after its
// CONNECTED agreed 10 s heart-beats owed no beat: no series of none.
// The glance said "stomp heart-beat c2s 10.0s no beat, other frames on
// time; stomp heart-beat s2c 10.0s no beat, other frames on time" (as for
// a direction that frames kept alive for minutes), not "-" as before the
// series of none. Past 15 s (10 s × 1.5), the series is there.
func TestHealthPromisedNoneDue(t *testing.T) {
	for _, finish := range []bool{false, true} {
		if c := stompConv(t, Options{}, finish, 0, 3000); len(c.Heartbeats) != 0 || Glance(c) != "-" {
			t.Errorf("finish %v: %d series, glance %q, want none, \"-\"", finish, len(c.Heartbeats), Glance(c))
		}
		if c := stompConv(t, Options{}, finish, 0, 15100); len(c.Heartbeats) != 0 {
			t.Errorf("finish %v: 15 s after the CONNECTED: %d series, want none", finish, len(c.Heartbeats))
		}
		c := stompConv(t, Options{}, finish, 0, 15200)
		if g, want := Glance(c), "stomp heart-beat c2s 10.0s 1 missed (none in 15.1s since negotiated); stomp heart-beat s2c 10.0s 1 missed (none in 15.1s since negotiated)"; g != want {
			t.Errorf("finish %v: 15.1 s: glance %q, want %q", finish, g, want)
		}
	}
}
