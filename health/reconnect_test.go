package health

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

var server80 = netip.MustParseAddrPort("10.0.0.2:80") // newConv's server

// connectEnd reports a connection that never showed WebSocket, as
// wsparse does with Config.EndAll.
func connectEnd(t *Tracker, id int, client, server string, s *wsparse.Summary) {
	c := wsparse.NewConn(id, netip.MustParseAddrPort(client), netip.MustParseAddrPort(server), wsparse.Config{}, nil)
	s.End = wsparse.EndNotWebSocket
	t.End(c, s)
}

// refusedAt is a connect refused at ms (SYN, RST 1 ms later).
func refusedAt(t *Tracker, id int, client string, ms int) {
	connectEnd(t, id, client, "10.0.0.2:80", &wsparse.Summary{First: at(ms), Last: at(ms + 1), Connect: wsparse.ConnectRefused})
}

// requestAt is a connection with one HTTP request at ms.
func requestAt(t *Tracker, id int, client, uri string, ms, status int) {
	connectEnd(t, id, client, "10.0.0.2:80", &wsparse.Summary{First: at(ms), Last: at(ms + 2),
		Requests: []wsparse.HTTPRequest{{TS: at(ms), Method: "GET", Host: "example.test", URI: uri, Status: status, RespTS: at(ms + 1)}}})
}

var (
	noClose  = [2]wsparse.CloseInfo{}
	byClient = func(ms int) [2]wsparse.CloseInfo {
		return [2]wsparse.CloseInfo{closed(ms, 1000, ""), closed(ms+1, 1000, "")}
	}
)

func timeline(g *Group) string {
	s := ""
	for _, a := range g.Attempts {
		s += fmt.Sprintf(" %d%v:%s", a.Conn, a.Via, a.Outcome)
		if a.HasAfter {
			s += "+" + Dur(a.After)
		}
	}
	return s
}

// TestReconnectSeedLoop is the user's loop, told to the tracker: /info and
// a SockJS WebSocket that the dead server resets at 10 s, five connects
// refused 3 s apart, then /info and a WebSocket 18.5 s after the reset.
// One group, every attempt in it, in one row: 7 attempts, 5 refused,
// fixed 3.0 s, outage 18.5 s.
func TestReconnectSeedLoop(t *testing.T) {
	tr := New(nil, Options{})
	requestAt(tr, 1, "10.0.0.1:4000", "/stomp/info?t=1", 0, 200)
	newConv(tr, 2, "10.0.0.1:4001", 101, "/stomp/123/abcdefgh/websocket", 10).end(10000, wsparse.EndRSTWithoutClose, noClose, 0, 0)
	for i := range 5 {
		refusedAt(tr, 3+i, "10.0.0.1:"+strconv.Itoa(4002+i), 13000+3000*i)
	}
	requestAt(tr, 8, "10.0.0.1:4010", "/stomp/info?t=2", 28500, 200)
	newConv(tr, 9, "10.0.0.1:4011", 101, "/stomp/124/ijklmnop/websocket", 28510).end(40000, wsparse.EndClean, byClient(39000), 0, 0)
	r := tr.Report()
	if len(r.Conns) != 2 {
		t.Errorf("%d conns, want the 2 WebSocket connections", len(r.Conns))
	}
	if len(r.Groups) != 1 {
		t.Fatalf("%d groups, want 1: %+v", len(r.Groups), r.Groups)
	}
	g := r.Groups[0]
	if got, want := timeline(g), " 2[1]:error 3[]:conn_refused+3.0s 4[]:conn_refused+3.0s 5[]:conn_refused+3.0s 6[]:conn_refused+3.0s 7[]:conn_refused+3.0s 9[8]:ok+3.5s"; got != want {
		t.Errorf("timeline\n%s\nwant\n%s", got, want)
	}
	if g.Path != "/stomp" || len(g.Attempts) != 7 || g.Refused != 5 || g.Failed != 0 || g.Errors != 1 ||
		g.Backoff != "fixed" || Dur(g.BackoffInterval) != "3.0s" || g.Outage != 18500*time.Millisecond || g.Outages != 1 || g.Storm {
		t.Errorf("group %s: %d attempts, %d refused, %d failed, %d errors, backoff %s %v, outage %v (%d), storm %v",
			g.Path, len(g.Attempts), g.Refused, g.Failed, g.Errors, g.Backoff, g.BackoffInterval, g.Outage, g.Outages, g.Storm)
	}
	if a := g.Attempts[6]; !a.HasOutage || a.Outage != 18500*time.Millisecond || a.Start != at(28500) {
		t.Errorf("last attempt %+v", a)
	}
}

// TestReconnectOverlap: a load run, 600 connections from one client to one
// URL, 8 at a time, each lane opening the next as one closes (some in
// error). Attempts that overlap are not retries of each other: no storm,
// no negative delay, no rhythm. Before, it was a storm with delays of
// -465ms and the like.
func TestReconnectOverlap(t *testing.T) {
	tr := New(nil, Options{})
	id := 0
	for lane := range 8 {
		start := lane * 37
		for k := range 75 {
			id++
			dur := 400 + (k*131+lane*17)%90
			e, cl := wsparse.EndClean, byClient(start+dur-1)
			if k%5 == 0 {
				e, cl = wsparse.EndFINWithoutClose, noClose
			}
			newConv(tr, id, "10.0.0.1:"+strconv.Itoa(10000+id), 101, "/load", start).end(start+dur, e, cl, 0, 0)
			start += dur + 2
		}
	}
	r := tr.Report()
	if len(r.Groups) != 1 {
		t.Fatalf("%d groups", len(r.Groups))
	}
	g := r.Groups[0]
	if len(g.Attempts) != 600 || g.Storm || g.Backoff != "" {
		t.Errorf("%d attempts, storm %v (%d in window), backoff %q; want 600, no storm, no backoff", len(g.Attempts), g.Storm, g.MaxInWindow, g.Backoff)
	}
	for _, a := range g.Attempts {
		if a.After < 0 {
			t.Errorf("conn %d: delay %v", a.Conn, a.After)
		}
	}
}

// TestReconnectParallel: the load run's attempts are parallel (8 at most),
// the retries of one client that waits are not.
func TestReconnectParallel(t *testing.T) {
	tr := New(nil, Options{})
	for i := range 8 {
		newConv(tr, 1+i, "10.0.0.1:"+strconv.Itoa(1000+i), 101, "/load", i).end(500+i, wsparse.EndClean, byClient(498+i), 0, 0)
	}
	newConv(tr, 9, "10.0.0.1:2000", 101, "/load", 504).end(900, wsparse.EndClean, byClient(898), 0, 0)     // while 8 was open
	newConv(tr, 10, "10.0.0.1:2001", 101, "/load", 1000).end(1100, wsparse.EndClean, byClient(1050), 0, 0) // after all
	g := tr.Report().Groups[0]
	if g.MaxParallel != 8 {
		t.Errorf("max parallel %d, want 8", g.MaxParallel)
	}
	for i, a := range g.Attempts {
		if a.Concurrent != (i > 0 && i < 9) || a.HasAfter != (i == 9) || a.Retry {
			t.Errorf("attempt %d (conn %d): concurrent %v, after %v %v, retry %v", i, a.Conn, a.Concurrent, a.HasAfter, a.After, a.Retry)
		}
	}
	if a := g.Attempts[9]; a.After != 102*time.Millisecond {
		t.Errorf("conn 10 after %v, want 102ms (from conn 9's first Close)", a.After)
	}
}

func TestReconnectRhythm(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	for _, tc := range []struct {
		name string
		d    []time.Duration
		want string
		iv   time.Duration
	}{
		{"one delay", ms(3000), "", 0},
		{"fixed", ms(3001, 2999, 3004, 3000, 3002), "fixed", 3001 * time.Millisecond},
		{"fixed after an immediate first", ms(2, 3000, 3001, 3000), "fixed", 3000 * time.Millisecond},
		{"fixed, jittered", ms(1000, 1000, 1100, 950), "fixed", 1000 * time.Millisecond},
		{"exponential", ms(100, 200, 400, 800, 1600), "exponential", 0},
		{"exponential, capped", ms(1000, 2000, 4000, 8000, 10000, 10000, 10000), "exponential", 0},
		{"exponential, two", ms(100, 200), "exponential", 0},
		{"increasing", ms(100, 120, 500), "increasing", 0},
		{"random", ms(500, 100, 900, 2500, 300), "random", 0},
		{"immediate", ms(0, 0, 0), "fixed", 0},
	} {
		got, iv := backoff(tc.d)
		if got != tc.want || iv != tc.iv {
			t.Errorf("%s %v: %q %v, want %q %v", tc.name, tc.d, got, iv, tc.want, tc.iv)
		}
	}
}

// TestReconnectOutage: the outage runs from the last good connection's end
// to the start of the next good one that a retry opened; a loop that never
// reconnects is down at the end.
func TestReconnectOutage(t *testing.T) {
	tr := New(nil, Options{})
	newConv(tr, 1, "10.0.0.1:1", 101, "/ws", 0).end(1000, wsparse.EndRSTWithoutClose, noClose, 0, 0)
	refusedAt(tr, 2, "10.0.0.1:2", 2000)
	refusedAt(tr, 3, "10.0.0.1:3", 4000)
	newConv(tr, 4, "10.0.0.1:4", 101, "/ws", 8000).end(9000, wsparse.EndRSTWithoutClose, noClose, 0, 0)
	newConv(tr, 5, "10.0.0.1:5", 101, "/ws", 9500).end(12000, wsparse.EndRSTWithoutClose, noClose, 0, 0)
	refusedAt(tr, 6, "10.0.0.1:6", 13000)
	connectEnd(tr, 7, "10.0.0.1:7", "10.0.0.2:80", &wsparse.Summary{First: at(15000), Last: at(22000), Connect: wsparse.ConnectUnanswered})
	g := tr.Report().Groups[0]
	if got, want := timeline(g), " 1[]:error 2[]:conn_refused+1.0s 3[]:conn_refused+2.0s 4[]:error+4.0s 5[]:error+500ms 6[]:conn_refused+1.0s 7[]:timeout+2.0s"; got != want {
		t.Errorf("timeline\n%s\nwant\n%s", got, want)
	}
	if g.Outage != 7*time.Second || g.Outages != 2 || g.DownAtEnd != 10*time.Second || g.Refused != 3 || g.Failed != 1 || g.Errors != 3 {
		t.Errorf("outage %v (%d), down at end %v, %d refused, %d failed, %d errors", g.Outage, g.Outages, g.DownAtEnd, g.Refused, g.Failed, g.Errors)
	}
	if a := g.Attempts[4]; a.Outage != 500*time.Millisecond {
		t.Errorf("conn 5 outage %v, want 500ms", a.Outage)
	}
}

// TestReconnectGrouping: groups are by client IP, Host and base URL (the
// SockJS prefix, the Socket.IO path); a connect without a URL goes to its
// client's group on the same server that was active last before it, else
// to one of its own; HTTP requests before an upgrade go with the upgrade,
// other requests and silent connections are no attempts.
func TestReconnectGrouping(t *testing.T) {
	tr := New(nil, Options{})
	requestAt(tr, 1, "10.0.0.1:1", "/stomp/info?t=1", 0, 200)
	newConv(tr, 2, "10.0.0.1:2", 101, "/stomp/1/aaaa/websocket", 5).end(1000, wsparse.EndRSTWithoutClose, noClose, 0, 0)
	newConv(tr, 3, "10.0.0.9:3", 101, "/stomp/2/bbbb/websocket", 10).end(1000, wsparse.EndClean, byClient(900), 0, 0)
	requestAt(tr, 4, "10.0.0.1:4", "/socket.io/?EIO=4&transport=polling&t=x", 2000, 200)
	requestAt(tr, 4, "10.0.0.1:4", "/socket.io/?EIO=4&transport=polling&t=y&sid=abc", 2001, 200) // not a handshake
	newConv(tr, 5, "10.0.0.1:5", 101, "/socket.io/?EIO=4&transport=websocket&sid=abc", 2010).end(3000, wsparse.EndRSTWithoutClose, noClose, 0, 0)
	refusedAt(tr, 6, "10.0.0.1:6", 3500) // after the Socket.IO attempt: its group
	refusedAt(tr, 7, "10.0.0.1:7", -100) // before any: the first group's
	connectEnd(tr, 8, "10.0.0.1:8", "10.0.0.3:443", &wsparse.Summary{First: at(4000), Last: at(4001), Connect: wsparse.ConnectRefused})
	requestAt(tr, 9, "10.0.0.1:9", "/index.html", 100, 200)
	connectEnd(tr, 10, "10.0.0.1:10", "10.0.0.2:80", &wsparse.Summary{First: at(100), Last: at(200), Connect: wsparse.ConnectEmpty})
	requestAt(tr, 11, "10.0.0.1:11", "/stomp/info?t=2", 5000, 503)
	// A WebSocket without its handshake (midstream), from a client with no other attempt.
	mid := wsparse.NewConn(12, netip.MustParseAddrPort("10.0.0.5:12"), server80, wsparse.Config{}, nil)
	tr.End(mid, &wsparse.Summary{First: at(6000), Last: at(7000), End: wsparse.EndOpen})
	var got []string
	for _, g := range tr.Report().Groups {
		got = append(got, fmt.Sprintf("%s %s %s%s:%s", g.ClientIP, g.Server, g.Host, g.Path, timeline(g)))
	}
	want := []string{
		"10.0.0.1 10.0.0.2:80 example.test/stomp: 7[]:conn_refused 2[1]:error+99ms 11[]:http_error+4.0s",
		"10.0.0.9 10.0.0.2:80 example.test/stomp: 3[]:ok",
		"10.0.0.1 10.0.0.2:80 example.test/socket.io/: 5[4]:error 6[]:conn_refused+500ms",
		"10.0.0.1 10.0.0.3:443 : 8[]:conn_refused",
		"10.0.0.5 10.0.0.2:80 : 12[]:open",
	}
	if !slices.Equal(got, want) {
		t.Errorf("groups\n%q\nwant\n%q", got, want)
	}
}

// TestReconnectConnectBound: a flood of refused connects is kept up to
// maxConnectsKept, then counted by client and server (up to
// maxConnectKeys of those), then only counted.
func TestReconnectConnectBound(t *testing.T) {
	tr := New(nil, Options{})
	id := 0
	flood := func(server string, n int) {
		for range n {
			id++
			connectEnd(tr, id, "10.0.0.1:1", server, &wsparse.Summary{First: at(id), Last: at(id), Connect: wsparse.ConnectRefused})
		}
	}
	flood("10.0.0.2:80", maxConnectsKept+100)
	for i := range maxConnectKeys + 5 {
		flood(netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), uint16(1+i)).String(), 1)
	}
	r := tr.Report()
	if len(r.Groups) != 1+maxConnectKeys-1 {
		t.Errorf("%d groups, want one per server counted", len(r.Groups))
	}
	again := tr.Report() // the same groups in the same order
	for i, g := range r.Groups {
		if i < len(again.Groups) && again.Groups[i].Server != g.Server {
			t.Fatalf("group %d: server %s, then %s", i+1, g.Server, again.Groups[i].Server)
		}
	}
	if len(tr.connects.kept) != maxConnectsKept || len(tr.connects.over) != maxConnectKeys || r.ConnectsUncounted != 6 {
		t.Errorf("kept %d, counted by client and server %d, uncounted %d", len(tr.connects.kept), len(tr.connects.over), r.ConnectsUncounted)
	}
	g := r.Groups[0]
	if g.Server != server80 || len(g.Attempts) != maxConnectsKept || g.Unlisted != 100 || g.Refused != maxConnectsKept+100 {
		t.Errorf("group %s: %d attempts, %d unlisted, %d refused", g.Server, len(g.Attempts), g.Unlisted, g.Refused)
	}
}

// BenchmarkConnectFlood reports the heap the tracker keeps for 100 000
// refused connects (a SYN flood answered by RST): bounded by
// maxConnectsKept.
func BenchmarkConnectFlood(b *testing.B) {
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tr := New(nil, Options{})
		for i := range 100000 {
			c := wsparse.NewConn(i+1, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 1), server80, wsparse.Config{}, nil)
			tr.End(c, &wsparse.Summary{First: at(i), Last: at(i), Connect: wsparse.ConnectRefused, End: wsparse.EndNotWebSocket})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-kept")
		runtime.KeepAlive(tr)
	}
}

// TestReconnectPreludes: an Engine.IO handshake poll goes with the
// upgrade it was answered before (the latest such); one answered only
// after the next attempt started, or never, was given up on.
func TestReconnectPreludes(t *testing.T) {
	tr := New(nil, Options{})
	poll := func(id, ms, answeredMS int) {
		r := wsparse.HTTPRequest{TS: at(ms), Method: "GET", Host: "example.test", URI: "/socket.io/?EIO=4&transport=polling&t=" + strconv.Itoa(id)}
		if answeredMS > 0 {
			r.Status, r.RespTS = 200, at(answeredMS)
		}
		connectEnd(tr, id, "10.0.0.1:"+strconv.Itoa(id), "10.0.0.2:80", &wsparse.Summary{First: at(ms), Last: at(ms + 1), Requests: []wsparse.HTTPRequest{r}})
	}
	poll(1, 0, 10)
	newConv(tr, 2, "10.0.0.1:2", 101, "/socket.io/?EIO=4&transport=websocket&sid=a", 20).end(1000, wsparse.EndClean, byClient(900), 0, 0)
	poll(3, 2000, 30000) // answered late: given up on
	poll(4, 7000, 0)     // never answered
	poll(5, 12000, 20000)
	poll(6, 21000, 21010)
	newConv(tr, 7, "10.0.0.1:7", 101, "/socket.io/?EIO=4&transport=websocket&sid=b", 21020).end(30000, wsparse.EndClean, byClient(29000), 0, 0)
	g := tr.Report().Groups[0]
	if got, want := timeline(g), " 2[1]:ok 3[]:http_timeout+1.1s 4[]:http_timeout+5.0s 5[]:http_only+5.0s 7[6]:ok+9.0s"; got != want {
		t.Errorf("timeline\n%s\nwant\n%s", got, want)
	}
	if g.Failed != 3 || g.Path != "/socket.io/" {
		t.Errorf("%s: %d failed, want 3", g.Path, g.Failed)
	}
}
