package health

import (
	"cmp"
	"fmt"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// endConv drives one connection through a tracker as the pipeline does:
// its records, its End (e at lastMS), then the capture's end (capMS, 0:
// not told), then the report. beats are the s2c beats of kind (ms);
// negMS >= 0 negotiates 10 s STOMP heart-beats both ways at that time;
// closeMS > 0 is a client Close then.
type endConv struct {
	kind           string
	beats          []int
	negMS, closeMS int
	e              wsparse.End
	lastMS, capMS  int
}

func (ec endConv) run(t *testing.T, o Options, finish, lazy bool) *Conn {
	return ec.runAwait(t, o, finish, lazy, finish)
}

// runAwait is run, with AwaitCaptureEnd when await (as pipeline.Conns
// with FinishAtEnd).
func (ec endConv) runAwait(t *testing.T, o Options, finish, lazy, await bool) *Conn {
	t.Helper()
	tr := New(nil, o)
	if finish {
		tr.FinishAtEnd()
	}
	if await {
		tr.AwaitCaptureEnd()
	}
	if lazy {
		tr.HeadsAtEnd()
	}
	v := newConv(tr, 1, "10.0.0.1:5000", 101, "/stomp", 0)
	for _, ms := range ec.beats {
		tr.Beat(Beat{Conn: 1, Dir: wsparse.ServerToClient, TS: at(ms), Kind: ec.kind})
	}
	if ec.negMS >= 0 {
		for d := range 2 {
			tr.Negotiated(Negotiated{Conn: 1, Dir: wsparse.Dir(d), Kind: "stomp", Interval: 10 * time.Second, At: at(ec.negMS)})
		}
	}
	var cl [2]wsparse.CloseInfo
	if ec.closeMS > 0 {
		cl[wsparse.ClientToServer] = closed(ec.closeMS, 1000, "")
		v.t.Frame(v.c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpClose, Fin: true}, Dir: wsparse.ClientToServer, TS: at(ec.closeMS)})
	}
	s := &wsparse.Summary{First: v.hs.RequestTS, Last: at(ec.lastMS), Handshake: v.hs, Close: cl, End: ec.e}
	if ec.e == wsparse.EndFINWithoutClose {
		s.TCPFin[wsparse.ServerToClient] = true
	}
	tr.End(v.c, s)
	if ec.capMS > 0 {
		tr.CaptureEnd(at(ec.capMS))
	}
	r := tr.ReportEach()
	if r.Len() != 1 {
		t.Fatalf("%d connections", r.Len())
	}
	return r.Conn(0)
}

func ms(v ...int) []int { return v }

// every returns the times from..to (ms) step apart.
func every(from, to, step int) []int {
	var out []int
	for v := from; v <= to; v += step {
		out = append(out, v)
	}
	return out
}

// TestCaptureEnd: a connection still open when the capture ended (no FIN,
// RST nor Close) is judged to the capture's end, not to its last byte: the
// server's STOMP heart-beats that stopped at 30 s of a capture that ran to
// 90 s are 6 missed, said open at capture end. Until session 37 they were
// judged to the connection's last byte (the last beat): ok. One that
// ended (FIN, a Close) is judged to its end as before; a capture end
// before the connection's end (the clock stepped back after it) leaves
// its end.
func TestCaptureEnd(t *testing.T) {
	stomp := every(10100, 30100, 10000)
	cases := []struct {
		name string
		ec   endConv
		want string // the s2c series' glance
		open bool   // its last gap is Open
	}{
		{"open, beats stopped", endConv{"stomp", stomp, 100, 0, wsparse.EndOpen, 30100, 90100},
			"stomp heart-beat s2c 10.0s 6 missed (max gap 60.0s, none in the last 60.0s, open at capture end)", true},
		{"open, capture end not told", endConv{"stomp", stomp, 100, 0, wsparse.EndOpen, 30100, 0},
			"stomp heart-beat s2c 10.0s ok", false},
		{"FIN at the last beat", endConv{"stomp", stomp, 100, 0, wsparse.EndFINWithoutClose, 30100, 90100},
			"stomp heart-beat s2c 10.0s ok", false},
		{"client Close at 50 s, no reply", endConv{"stomp", stomp, 100, 50100, wsparse.EndCloseUnanswered, 50100, 90100},
			"stomp heart-beat s2c 10.0s 2 missed (max gap 20.0s, none in the last 20.0s)", false},
		{"capture end before the connection's (clock stepped back)", endConv{"stomp", stomp, 100, 0, wsparse.EndOpen, 30100, 20000},
			"stomp heart-beat s2c 10.0s ok", false},
		{"open, beats still on time at the end", endConv{"stomp", every(10100, 90100, 10000), 100, 0, wsparse.EndOpen, 90100, 95000},
			"stomp heart-beat s2c 10.0s ok", false},
		{"promised, none sent, open", endConv{"stomp", nil, 100, 0, wsparse.EndOpen, 5000, 45100},
			"stomp heart-beat s2c 10.0s 4 missed (none in 45.0s since negotiated, open at capture end)", true},
		{"text pings, observed 1 s, open", endConv{KindText, every(1000, 10000, 1000), -1, 0, wsparse.EndOpen, 10000, 20000},
			"text s2c 1.0s 10 missed (max gap 10.0s, none in the last 10.0s, open at capture end)", true},
	}
	for _, tc := range cases {
		for _, mode := range [][2]bool{{false, false}, {true, false}, {true, true}} {
			name := fmt.Sprintf("%s (finish %v, lazy %v)", tc.name, mode[0], mode[1])
			c := tc.ec.run(t, Options{}, mode[0], mode[1])
			var s *Series
			for _, x := range c.Heartbeats {
				if x.Dir == wsparse.ServerToClient {
					s = x
				}
			}
			if s == nil {
				t.Errorf("%s: no s2c series: %s", name, Glance(c))
				continue
			}
			if g := glanceOf(c, s); g != tc.want {
				t.Errorf("%s: %q, want %q", name, g, tc.want)
			}
			open := len(s.Gaps) > 0 && s.Gaps[len(s.Gaps)-1].Open
			if open != tc.open {
				t.Errorf("%s: open %v, want %v (gaps %+v)", name, open, tc.open, s.Gaps)
			}
			if open && !s.Gaps[len(s.Gaps)-1].To.Equal(at(tc.ec.capMS)) {
				t.Errorf("%s: last gap to %v, want the capture's end", name, s.Gaps[len(s.Gaps)-1].To)
			}
		}
	}
}

// TestCaptureEndNotAwaited: with FinishAtEnd and no AwaitCaptureEnd (the
// Parquet writer's tracker) an open connection is judged at its End, to
// its own end, and packed then, as before: a CaptureEnd after changes
// nothing.
func TestCaptureEndNotAwaited(t *testing.T) {
	ec := endConv{"stomp", every(10100, 30100, 10000), 100, 0, wsparse.EndOpen, 30100, 90100}
	c := ec.runAwait(t, Options{}, true, false, false)
	if g := glanceOf(c, c.Heartbeats[len(c.Heartbeats)-1]); g != "stomp heart-beat s2c 10.0s ok" {
		t.Errorf("%q, want it judged to its own end", g)
	}
}

// glanceOf is the glance of series s of c alone.
func glanceOf(c *Conn, s *Series) string {
	one := *c
	one.Heartbeats = []*Series{s}
	return Glance(&one)
}

// TestNegotiatedLead: the gap from the negotiation (CONNECTED) to the
// first beat is judged as any other: a server whose first heart-beat
// came 40 s after a 10 s agreement missed 3. Until session 37 only a
// series of no beats was judged from the negotiation.
func TestNegotiatedLead(t *testing.T) {
	cases := []struct {
		name  string
		beats []int
		want  string
	}{
		{"first beat 40 s late", ms(40100, 50100, 60100), "stomp heart-beat s2c 10.0s 3 missed (max gap 40.0s)"},
		{"first beat on time", ms(10100, 20100, 30100, 40100, 50100, 60100), "stomp heart-beat s2c 10.0s ok"},
		{"first beat within tolerance", ms(14000, 24000, 34000, 44000, 54000, 60100), "stomp heart-beat s2c 10.0s ok"},
	}
	for _, tc := range cases {
		for _, finish := range []bool{false, true} {
			c := endConv{"stomp", tc.beats, 100, 0, wsparse.EndFINWithoutClose, 60100, 0}.run(t, Options{}, finish, false)
			s := c.Heartbeats[len(c.Heartbeats)-1]
			if g := glanceOf(c, s); g != tc.want {
				t.Errorf("%s (finish %v): %q, want %q", tc.name, finish, g, tc.want)
			}
			if s.Missed > 0 && (!s.Gaps[0].From.Equal(at(100)) || !s.Gaps[0].To.Equal(at(tc.beats[0])) || s.Gaps[0].Trailing) {
				t.Errorf("%s: first gap %+v, want CONNECTED to the first beat", tc.name, s.Gaps[0])
			}
		}
	}
}

// TestClockSteppedMarked: the connections that saw the clock step back
// (their last bytes before their first, or a step between beats) are
// counted once, however often the report is made, kept or packed
// (FinishAtEnd), heads made at their end or not. The mark is in each
// connection's state: the set of their IDs beside the connections grew
// with every one.
func TestClockSteppedMarked(t *testing.T) {
	for _, mode := range [][2]bool{{false, false}, {true, false}, {true, true}} {
		tr := New(nil, Options{})
		if mode[0] {
			tr.FinishAtEnd()
		}
		if mode[1] {
			tr.HeadsAtEnd()
		}
		fin := [2]wsparse.CloseInfo{}
		newConv(tr, 1, "10.0.0.1:5001", 101, "/ws", 0).end(-3600000, wsparse.EndFINWithoutClose, fin, 0, 0)
		newConv(tr, 2, "10.0.0.1:5002", 101, "/ws", 0).end(5000, wsparse.EndFINWithoutClose, fin, 0, 0)
		v := newConv(tr, 3, "10.0.0.1:5003", 101, "/ws", 0)
		for _, ms := range []int{1000, 2000, 3000, -3598000, -3597000, -3596000} {
			v.ping(wsparse.ClientToServer, ms, "")
		}
		v.end(3000, wsparse.EndFINWithoutClose, fin, 0, 0)
		newConv(tr, 4, "10.0.0.1:5004", 101, "/ws", 0).end(-3600000, wsparse.EndOpen, fin, 0, 0)
		newConv(tr, 5, "10.0.0.1:5005", 101, "/ws", 0).end(5000, wsparse.EndOpen, fin, 0, 0)
		for range 2 {
			if n := tr.ReportEach().ClockStepped; n != 3 {
				t.Errorf("finish %v, lazy %v: ReportEach: %d stepped, want 3", mode[0], mode[1], n)
			}
			if n := tr.Report().ClockStepped; n != 3 {
				t.Errorf("finish %v, lazy %v: Report: %d stepped, want 3", mode[0], mode[1], n)
			}
		}
	}
}

// TestNegotiatedLeadSteppedRuns: the lead from the negotiation to the
// first beat is judged once, for the first run of beats: a series cut by
// a step back of the clock (20 s, its beats every 10 s on time) missed
// none. Each later run was judged from the negotiation to its own first
// beat: 3 missed (max gap 40.0s) here, one more per 10 s the session ran
// before the step.
func TestNegotiatedLeadSteppedRuns(t *testing.T) {
	beats := append(every(10100, 60100, 10000), every(40100, 90100, 10000)...)
	for _, finish := range []bool{false, true} {
		c := endConv{"stomp", beats, 100, 0, wsparse.EndFINWithoutClose, 90100, 0}.run(t, Options{}, finish, false)
		s := c.Heartbeats[len(c.Heartbeats)-1]
		if g := glanceOf(c, s); s.Missed != 0 || s.ClockSteps != 1 || g != "stomp heart-beat s2c 10.0s clock stepped back" {
			t.Errorf("finish %v: %q (gaps %+v), want none missed, one step", finish, g, s.Gaps)
		}
	}
	// A first beat late after the negotiation is still judged when a step follows.
	beats = append(every(40100, 60100, 10000), every(40100, 90100, 10000)...)
	c := endConv{"stomp", beats, 100, 0, wsparse.EndFINWithoutClose, 90100, 0}.run(t, Options{}, false, false)
	if s := c.Heartbeats[len(c.Heartbeats)-1]; s.Missed != 3 || len(s.Gaps) != 1 || !s.Gaps[0].From.Equal(at(100)) {
		t.Errorf("late first beat, then a step: missed %d, gaps %+v, want 3 from the negotiation", s.Missed, s.Gaps)
	}
}

// TestSteppedKeepsEncap: a connection's clock-step mark and its
// encapsulation, side by side in its head's padding, both survive the
// head being replaced, the result made and packed (FinishAtEnd) and
// unpacked, whatever the order in which they were learnt.
func TestSteppedKeepsEncap(t *testing.T) {
	id := wsparse.EncapID("vlan:10/vxlan:42")
	for _, mode := range [][3]bool{{false, false, false}, {true, false, false}, {true, true, false}, {true, true, true}} {
		tr := New(nil, Options{})
		if mode[0] {
			tr.FinishAtEnd()
		}
		if mode[1] {
			tr.HeadsAtEnd()
		}
		if mode[2] {
			tr.AwaitCaptureEnd()
		}
		var first *conv
		for i, e := range []wsparse.End{wsparse.EndFINWithoutClose, wsparse.EndOpen} {
			v := newConv(tr, 1+i, fmt.Sprintf("10.0.0.1:%d", 5001+i), 101, "/ws", 0)
			v.c.SetEncapID(id)
			for _, ms := range []int{1000, 2000} { // its step known at its End only (its last bytes before its first)
				v.ping(wsparse.ClientToServer, ms, "")
			}
			tr.End(v.c, &wsparse.Summary{First: v.hs.RequestTS, Last: at(-3597000), Handshake: v.hs, End: e}) // no Report yet
			first = cmp.Or(first, v)
		}
		first.ping(wsparse.ClientToServer, 3000, "") // after its End: unpacked
		plain := newConv(tr, 3, "10.0.0.1:5003", 101, "/ws", 0)
		tr.End(plain.c, &wsparse.Summary{First: plain.hs.RequestTS, Last: at(-3600000), Handshake: plain.hs, End: wsparse.EndFINWithoutClose})
		tr.CaptureEnd(at(5000))
		for range 2 {
			r := tr.ReportEach()
			if r.ClockStepped != 3 || r.Len() != 3 {
				t.Errorf("mode %v: %d stepped of %d, want 3 of 3", mode, r.ClockStepped, r.Len())
				continue
			}
			for i, want := range []string{"vlan:10/vxlan:42", "vlan:10/vxlan:42", ""} {
				if c := r.Conn(i); c.Encap != want {
					t.Errorf("mode %v: conn %d encap %q, want %q", mode, c.ID, c.Encap, want)
				}
			}
		}
	}
}
