package health

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/prof"
	"github.com/wsdump/wsdump/wsparse"
)

// TestOpenConnBytes: what the tracker holds for an open connection is
// what its result takes from the handshake (a connHead); the result
// (Conn, 760 bytes) is made by Report. It held ~800 bytes an open
// connection (a Conn from the first record), 80 MB of `conns` on 100 000
// open connections; then 350 (a connState of 256 bytes with its beat
// fields and four strings), then 270 (176: the beat fields made at the
// first beat or Close, the strings one with lengths), then 254 (160: the
// status in 32 bits), then 206 (112: the addresses in 16 bytes and a kind,
// the times in nanoseconds, the lengths and status in 16 bits), now 174
// (80: the addresses' 4 or 16 bytes in the head's string).
func TestOpenConnBytes(t *testing.T) {
	const n = 10000
	views, hss := openConns(n)
	msg := &wsparse.Message{Dir: wsparse.ClientToServer, TS: at(n + 5), Opcode: wsparse.OpText, Data: []byte("hello"), Len: 5, Frames: 1}
	var tr *Tracker
	per := bytesPer(n, func() {
		tr = New(nil, Options{})
		for i, c := range views {
			tr.Handshake(c, hss[i])
			tr.Message(c, msg)
		}
	})
	runtime.KeepAlive(hss)
	t.Logf("%.0f bytes per open connection", per)
	if per > 185 {
		t.Errorf("%.0f bytes per open connection, want at most 185", per)
	}
	// The results are the same: made by Report from what was kept.
	r := tr.Report()
	if len(r.Conns) != n {
		t.Fatalf("%d connections", len(r.Conns))
	}
	c := r.Conns[n-1]
	if c.ID != n || c.Client != views[n-1].Client() || c.Host != "example.test" || c.Status != 101 || c.Subprotocol != "v12.stomp" ||
		c.Path != "/echo/*/*/websocket" || c.Session != "abcd" || !c.Start.Equal(at(n-1)) || !c.End.Equal(at(n)) || c.Ended {
		t.Errorf("connection %+v", c)
	}
	runtime.KeepAlive(views)
}

// TestEndedConnBytes: a connection that ended is kept as what its end
// said (an endState, its traffic counts packed) until Report makes its
// result. It was the result, a Conn of 760 bytes, made at the end: the
// 100 000 connections open at the end of a capture all end at once,
// while the decoder still holds theirs, and `wsdump conns` peaked 77 MB
// higher than the decoder alone (1 037 bytes a connection, then 325 with
// an endState, then 229: an end with no Close frame is packed into the
// head's string, packEnd; now 197, the addresses in that string too).
func TestEndedConnBytes(t *testing.T) {
	const n = 10000
	views, hss := openConns(n)
	sums := endedSums(hss)
	var tr *Tracker
	per := bytesPer(n, func() {
		tr = New(nil, Options{})
		for i, c := range views {
			tr.Handshake(c, hss[i])
			tr.End(c, sums[i])
		}
	})
	t.Logf("%.0f bytes per ended connection before Report", per)
	if per > 215 {
		t.Errorf("%.0f bytes per ended connection before Report, want at most 215", per)
	}
	r := tr.Report()
	c := r.Conns[n-1]
	if len(r.Conns) != n || c.Stats != sums[n-1].Stats || !c.Ended || c.Close.End != wsparse.EndOpen || !c.Close.DataAfterClose ||
		!c.End.Equal(at(n+2)) || c.Host != "example.test" {
		t.Errorf("connection %+v", c)
	}
	runtime.KeepAlive(views)
	runtime.KeepAlive(sums)
}

// endedSums gives the summaries of connections open at the end of a
// capture, with hss's handshakes.
func endedSums(hss []*wsparse.Handshake) []*wsparse.Summary {
	sums := make([]*wsparse.Summary, len(hss))
	for i := range sums {
		s := &wsparse.Summary{First: hss[i].RequestTS, Last: at(i + 3), Handshake: hss[i], End: wsparse.EndOpen, Anomalies: wsparse.AnomDataAfterClose}
		s.Stats[0] = wsparse.DirStats{Frames: 3, Messages: 2, PayloadBytes: 640, WireBytes: 660}
		s.Stats[1] = wsparse.DirStats{Frames: 1, Messages: 1, PayloadBytes: 1000, WireBytes: 1004, LostBytes: 1 << 20}
		sums[i] = s
	}
	return sums
}

// TestEndAllocBytes: what End allocates for a connection still open at
// the end of the capture, when the decoder ends 100 000 of them at once
// (the peak of `wsdump conns` comes there): its end packed into its
// head's string, one string made (was an endState of 96 bytes, its
// counts packed in a growing slice, then copied: 184 bytes).
func TestEndAllocBytes(t *testing.T) {
	const n = 10000
	views, hss := openConns(n)
	sums := endedSums(hss)
	tr := New(nil, Options{})
	for i, c := range views {
		tr.Handshake(c, hss[i])
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, c := range views {
		tr.End(c, sums[i])
	}
	runtime.ReadMemStats(&after)
	per := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("End allocated %.0f bytes a connection", per)
	if per > 100 {
		t.Errorf("End allocated %.0f bytes a connection, want at most 100", per)
	}
}

// openConns gives n connections and their handshakes.
func openConns(n int) ([]*wsparse.Conn, []*wsparse.Handshake) {
	views := make([]*wsparse.Conn, n)
	hss := make([]*wsparse.Handshake, n)
	for i := range views {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(1024+i))
		views[i] = wsparse.NewView(i+1, [2]netip.AddrPort{client, netip.MustParseAddrPort("10.0.0.2:80")})
		hss[i] = &wsparse.Handshake{RequestTS: at(i), TS: at(i + 1), Method: "GET", URI: "/echo/123/abcd/websocket?sid=x",
			Host: "example.test", Status: 101, Subprotocol: "v12.stomp"}
	}
	return views, hss
}

// bytesPer is the heap f leaves alive, per one of n.
var bytesPer = prof.HeapLeftPer

// TestReportAllocBytes: what Report allocates for connections that
// connected once each (their results, Conn, 768 bytes with its size
// class, and their groups): its maps are made for a group each rather
// than grown, which was a third of the grouping's time on 100 000
// connections (2 428 bytes a connection before, now 2 054).
func TestReportAllocBytes(t *testing.T) {
	const n = 20000
	views, hss := openConns(n)
	tr := New(nil, Options{})
	for i, c := range views {
		tr.Handshake(c, hss[i])
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := tr.Report()
	runtime.ReadMemStats(&after)
	per := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("Report allocated %.0f bytes a connection", per)
	if len(r.Conns) != n || len(r.Groups) != n {
		t.Fatalf("%d connections, %d groups", len(r.Conns), len(r.Groups))
	}
	if per > 2200 {
		t.Errorf("Report allocated %.0f bytes a connection, want at most 2200", per)
	}
}

// TestBeatBytes: a kept heartbeat's time is 8 bytes (Unix nanoseconds,
// beatSeries.ns), not a time.Time's 24: the 1 048 576 the tracker keeps
// (maxBeatsKept) were 24 MiB of `wsdump conns` on a long capture, held
// for the report at its end (26 bytes a beat with the slices' growth,
// now 10).
func TestBeatBytes(t *testing.T) {
	const n = 1 << 18
	views, hss := openConns(1)
	var tr *Tracker
	per := bytesPer(n, func() {
		tr = New(nil, Options{})
		tr.Handshake(views[0], hss[0])
		for i := range n {
			tr.Beat(Beat{Conn: views[0].ID, Dir: wsparse.Dir(i & 1), TS: at(i), Kind: KindText})
		}
	})
	t.Logf("%.1f bytes a beat kept", per)
	if per > 16 {
		t.Errorf("%.1f bytes a beat kept, want at most 16", per)
	}
	runtime.KeepAlive(tr)
}

// playEnded drives tr with n connections that pinged, beat (text, an
// application's key, a negotiated STOMP series) and ended, one after the
// other, the last still open at Report.
func playEnded(tr *Tracker, n int) {
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	for i := range n {
		id, base := i+1, i*100000
		v := newConv(tr, id, fmt.Sprintf("10.0.%d.%d:5000", i>>8, i&255), 101, "/ws", base)
		tr.Negotiated(Negotiated{Conn: id, Dir: s2c, Kind: "stomp", Interval: 10 * time.Second})
		for k := range 40 {
			ms := base + 10 + k*1000
			if k != 17 { // one missed
				v.ping(c2s, ms, fmt.Sprint(k))
				v.pong(s2c, ms+3+k%5, fmt.Sprint(k))
			}
			v.text(s2c, ms+500, "hb")
			tr.Beat(Beat{Conn: id, Dir: s2c, TS: at(ms + 700), Kind: KindApp, Proto: "json", Key: "type=tick"})
			if k%10 == 0 {
				tr.Beat(Beat{Conn: id, Dir: s2c, TS: at(ms + 800), Kind: "stomp"})
			}
		}
		if i == n-1 {
			break
		}
		s := &wsparse.Summary{First: v.hs.RequestTS, Last: at(base + 45000), Handshake: v.hs, End: wsparse.EndFINWithoutClose}
		if i%2 == 0 { // else the beats stop being expected at the end, not at the first Close
			s.End, s.Initiator = wsparse.EndClean, c2s
			s.Close[0], s.Close[1] = closed(base+44000, 1000, ""), closed(base+44010, 1000, "")
		}
		tr.End(v.c, s)
	}
}

// TestFinishAtEnd: with FinishAtEnd a connection's ping results and
// heartbeat series are made at its end and its beats let go, so that
// what the tracker holds does not grow with the beats of the connections
// that ended (`wsdump conns` on a long capture); the report is the same.
func TestFinishAtEnd(t *testing.T) {
	o := Options{HeartbeatText: regexp.MustCompile(`hb`)}
	const n = 300
	var trs [2]*Tracker
	var per [2]float64
	for k := range trs {
		per[k] = bytesPer(n, func() {
			trs[k] = New(nil, o)
			if k == 1 {
				trs[k].FinishAtEnd()
			}
			playEnded(trs[k], n)
		})
	}
	t.Logf("bytes per connection: %.0f kept for Report, %.0f with FinishAtEnd", per[0], per[1])
	r0, r1 := trs[0].Report(), trs[1].Report()
	if len(r0.Conns) != n || !reflect.DeepEqual(r0, r1) {
		t.Fatalf("the reports differ (%d, %d connections)", len(r0.Conns), len(r1.Conns))
	}
	c := r1.Conns[0]
	if len(c.Heartbeats) != 5 || c.Ping[wsparse.ClientToServer].Pings != 39 || c.Ping[wsparse.ClientToServer].RTTMedian == 0 {
		t.Errorf("connection %d: %d series, pings %+v", c.ID, len(c.Heartbeats), c.Ping)
	}
	if per[1] > per[0]*0.6 {
		t.Errorf("%.0f bytes per connection with FinishAtEnd, want at most 60 %% of %.0f", per[1], per[0])
	}
}

// TestHeadsAtEndBytes: with HeadsAtEnd an open connection that had only
// its handshake and data frames holds 8 bytes of the tracker (its
// response's time, in a page of lazyHeads), not a connState and its map
// entry (174 bytes: 12 MB of `wsdump conns` on 100 000 open
// connections); its head is made at its End from the summary's
// handshake, which has no response time (as the decoder's), and the
// report is the same as without HeadsAtEnd, for connections that pinged,
// closed, beat or had a second handshake meanwhile too.
func TestHeadsAtEndBytes(t *testing.T) {
	const n = 10000
	views, hss := openConns(n)
	sums := endedSums(hss)
	for i, s := range sums {
		hs := *hss[i]
		hs.TS, hs.Method = time.Time{}, "" // what the decoder's summary gives back
		s.Handshake = &hs
		if i%13 == 0 {
			s.Last = s.First // the response's time is the result's end
		}
	}
	data := &wsparse.Frame{Dir: wsparse.ClientToServer, TS: at(n + 5), Header: wsparse.Header{Opcode: wsparse.OpText, Fin: true}, Payload: []byte("hello")}
	open := func(tr *Tracker) {
		for i, c := range views {
			tr.Handshake(c, hss[i])
			tr.Frame(c, data)
		}
	}
	var trs [2]*Tracker
	per := bytesPer(n, func() {
		trs[1] = New(nil, Options{})
		trs[1].HeadsAtEnd()
		open(trs[1])
	})
	t.Logf("%.1f bytes per open connection with HeadsAtEnd", per)
	if per > 16 {
		t.Errorf("%.1f bytes per open connection with HeadsAtEnd, want at most 16", per)
	}
	trs[0] = New(nil, Options{})
	open(trs[0])
	for _, tr := range trs {
		for i, c := range views {
			switch {
			case i%3 == 0:
				tr.Frame(c, &wsparse.Frame{Dir: wsparse.ServerToClient, TS: at(n + 6), Header: wsparse.Header{Opcode: wsparse.OpPing, Fin: true}})
			case i%5 == 0:
				tr.Frame(c, &wsparse.Frame{Dir: wsparse.ServerToClient, TS: at(n + 6), Header: wsparse.Header{Opcode: wsparse.OpClose, Fin: true}})
			case i%7 == 0:
				tr.Beat(Beat{Conn: c.ID, Dir: wsparse.ServerToClient, TS: at(n + 7), Kind: "stomp"})
			case i%11 == 0:
				hs := *hss[i]
				hs.URI, hs.TS = "/other", at(n+8)
				tr.Handshake(c, &hs)
				h := *sums[i].Handshake
				h.URI = hs.URI
				sums[i].Handshake = &h
			}
			tr.End(c, sums[i])
		}
	}
	r0, r1 := trs[0].Report(), trs[1].Report()
	if len(r1.Conns) != n || !reflect.DeepEqual(r0, r1) {
		t.Fatalf("the reports differ (%d, %d connections)", len(r0.Conns), len(r1.Conns))
	}
	if c := r1.Conns[n-1]; !c.End.Equal(at(n+2)) || c.Host != "example.test" || !c.Start.Equal(at(n-1)) {
		t.Errorf("connection %+v", c)
	}
	if trs[1].lazy.n != 0 || len(trs[1].lazy.pages) != 0 {
		t.Errorf("%d heads, %d pages still waiting", trs[1].lazy.n, len(trs[1].lazy.pages))
	}
	runtime.KeepAlive(views)
}

// TestHeadsAtEndSparse: connection numbers far apart (the others not
// WebSocket) make no more pages than one per lazyMinFill connections past
// lazyFreePages: the heads past them are made at once, and the report is
// the same.
func TestHeadsAtEndSparse(t *testing.T) {
	const n = 2000
	views, hss := openConns(n)
	for i, c := range views {
		views[i] = wsparse.NewView(i*lazyPageLen+1, c.Addr)
	}
	sums := endedSums(hss)
	var trs [2]*Tracker
	for k := range trs {
		trs[k] = New(nil, Options{})
		if k == 1 {
			trs[k].HeadsAtEnd()
		}
		for i, c := range views {
			trs[k].Handshake(c, hss[i])
		}
	}
	l := trs[1].lazy
	if most := lazyFreePages + n/(lazyPageLen/lazyMinFill) + 1; len(l.pages) > most || len(trs[1].conns) == 0 {
		t.Errorf("%d pages for %d connections (want at most %d), %d heads made at once", len(l.pages), l.n, most, len(trs[1].conns))
	}
	for _, tr := range trs {
		for i, c := range views {
			tr.End(c, sums[i])
		}
	}
	if r0, r1 := trs[0].Report(), trs[1].Report(); len(r1.Conns) != n || !reflect.DeepEqual(r0, r1) {
		t.Fatalf("the reports differ (%d, %d connections)", len(r0.Conns), len(r1.Conns))
	}
	if l.n != 0 || len(l.pages) != 0 {
		t.Errorf("%d heads, %d pages still waiting", l.n, len(l.pages))
	}
}
