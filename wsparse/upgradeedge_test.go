package wsparse

import (
	"fmt"
	"strings"
	"testing"
)

// upgradeCase is an opening handshake as servers accept it, with two
// frames each way after it.
type upgradeCase struct {
	name         string
	cHTTP, sHTTP string // the HTTP bytes of each side before its frames
	anomalies    string // the handshake's
	skipped      int    // client bytes passed over (a body on the upgrade request)
}

// feedOrders feeds a case's two sides in three ways a capture may hold
// them: the client's frames after the server's (in one piece), the
// server's head and frames apart, and the server a byte at a time.
func feedOrders(c *Conn, order int, tc upgradeCase, cf, sf []byte) {
	server := cat([]byte(tc.sHTTP), sf)
	switch order {
	case 0:
		c.Feed(0, []byte(tc.cHTTP), testTime)
		c.Feed(1, server, testTime)
		c.Feed(0, cf, testTime)
	case 1:
		c.Feed(0, []byte(tc.cHTTP), testTime)
		c.Feed(1, []byte(tc.sHTTP), testTime)
		c.Feed(1, sf, testTime)
		c.Feed(0, cf, testTime)
	case 2:
		c.Feed(0, cat([]byte(tc.cHTTP), cf), testTime)
		for i := range server {
			c.Feed(1, server[i:i+1], testTime)
		}
	}
}

// Every byte after the handshake of each side is in a frame, or counted
// as skipped with an anomaly that says why, for the handshakes real
// servers accept: header case, repeated and listed fields, tabs, obs-fold,
// an absolute target, HTTP/1.0, interim 1xx answers before the 101,
// requests pipelined before the upgrade (with bodies, chunked, HEAD), a
// 101 without reason, and (until session 34 seen otherwise) a 101 to
// websocket answering a request that did not ask for it (no record at
// all) and a body on the upgrade request (read as frames: a Close of 121
// bytes that swallowed the client's frames; node and tshark pass over
// it).
func TestUpgradeVariantsAccounted(t *testing.T) {
	cf := cat(frame(true, 0, OpText, testMask, "hello"), frame(true, 0, OpText, testMask, "world"))
	sf := cat(frame(true, 0, OpText, nil, "HELLO"), frame(true, 0, OpText, nil, "WORLD"))
	req, resp := upgradeRequest(""), upgradeResponse("")
	field := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("%q not in %q", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	cases := []upgradeCase{
		{name: "plain", cHTTP: req, sHTTP: resp},
		{name: "header case", cHTTP: field(field(req, "Upgrade: websocket", "UPGRADE: WebSocket"), "Connection: Upgrade", "connection: UPGRADE"), sHTTP: field(resp, "Upgrade: websocket", "upgrade: WEBSOCKET")},
		{name: "repeated Upgrade", cHTTP: field(req, "Upgrade: websocket", "Upgrade: h2c\r\nUpgrade: websocket"), sHTTP: resp},
		{name: "Connection list", cHTTP: field(req, "Connection: Upgrade", "Connection: keep-alive, Upgrade"), sHTTP: resp},
		{name: "tabs", cHTTP: field(req, "Upgrade: websocket", "Upgrade:\twebsocket\t"), sHTTP: resp},
		{name: "obs-fold", cHTTP: field(req, "Upgrade: websocket", "Upgrade:\r\n websocket"), sHTTP: field(resp, "Upgrade: websocket", "Upgrade:\r\n\twebsocket")},
		{name: "absolute target", cHTTP: field(req, "GET /chat", "GET http://server.example.com/chat"), sHTTP: resp},
		{name: "HTTP/1.0", cHTTP: field(req, "HTTP/1.1", "HTTP/1.0"), sHTTP: field(resp, "HTTP/1.1", "HTTP/1.0")},
		{name: "101 without reason", cHTTP: req, sHTTP: field(resp, "101 Switching Protocols", "101")},
		{name: "interim 1xx", cHTTP: field(req, "Host:", "Expect: 100-continue\r\nHost:"), sHTTP: "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + resp},
		{name: "pipelined before", cHTTP: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n" + req,
			sHTTP: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n" + resp},
		{name: "bodies before", cHTTP: "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: x\r\n\r\n" + req,
			sHTTP: "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n" + resp},
		{name: "not requested", cHTTP: "GET /chat HTTP/1.1\r\nHost: x\r\n\r\n", sHTTP: resp, anomalies: "upgrade_not_requested"},
		{name: "not requested, misspelt", cHTTP: field(req, "Upgrade: websocket", "Upgrade: web-socket"), sHTTP: resp, anomalies: "upgrade_not_requested"},
		{name: "not requested, after a request", cHTTP: "GET /a HTTP/1.1\r\n\r\nGET /chat HTTP/1.1\r\n\r\n", sHTTP: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx" + resp, anomalies: "upgrade_not_requested"},
		{name: "request body", cHTTP: field(req, "Host:", "Content-Length: 2\r\nHost:") + "xy", sHTTP: resp, anomalies: "upgrade_request_body", skipped: 2},
		{name: "request body chunked", cHTTP: field(req, "Host:", "Transfer-Encoding: chunked\r\nHost:") + "2\r\nxy\r\n0\r\n\r\n", sHTTP: resp, anomalies: "upgrade_request_body", skipped: 12},
	}
	for _, tc := range cases {
		for order := 0; order < 3; order++ {
			s := &logSink{}
			c := NewConn(1, testClient, testServer, Config{}, s)
			feedOrders(c, order, tc, cf, sf)
			c.End(testTime)
			st := s.sum.Stats
			got := fmt.Sprintf("c2s %d frames, %d+%d bytes; s2c %d frames, %d+%d bytes; %s", st[0].Frames, st[0].WireBytes, st[0].SkippedBytes,
				st[1].Frames, st[1].WireBytes, st[1].SkippedBytes, s.sum.Anomalies)
			want := fmt.Sprintf("c2s 2 frames, %d+%d bytes; s2c 2 frames, %d+0 bytes; %s", len(cf), tc.skipped, len(sf), tc.anomalies)
			if got != want {
				t.Errorf("%s (order %d):\n got %s\nwant %s\n%s", tc.name, order, got, want, s)
			}
		}
	}
}

// A client that sends frames at once after a request that did not ask
// for websocket: they are held for the answer, decoded after a 101 to
// websocket, and HTTP again after any other (nothing reported: junk after
// a plain request).
func TestUnrequestedUpgradeClientFirst(t *testing.T) {
	cf := cat(frame(true, 0, OpText, testMask, "hello"), frame(true, 0, OpText, testMask, "world"))
	sf := frame(true, 0, OpText, nil, "HELLO")
	for _, tc := range []struct{ resp, want string }{
		{upgradeResponse(""), "H status=101 accept_valid=false sub=\"\" ext=\"\" deflate=false anomalies=upgrade_not_requested\n" +
			"F c2s #1 fin=true rsv=0 op=text masked=true key=37fa213d len=5 payload=68656c6c6f anomalies=\n" +
			"M c2s #1 op=text frames=1 len=5 data=68656c6c6f compressed=false anomalies=\n" +
			"F c2s #2 fin=true rsv=0 op=text masked=true key=37fa213d len=5 payload=776f726c64 anomalies=\n" +
			"M c2s #2 op=text frames=1 len=5 data=776f726c64 compressed=false anomalies=\n" +
			"F s2c #1 fin=true rsv=0 op=text masked=false key=00000000 len=5 payload=48454c4c4f anomalies=\n" +
			"M s2c #1 op=text frames=1 len=5 data=48454c4c4f compressed=false anomalies="},
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ""},
	} {
		s := &logSink{}
		c := NewConn(1, testClient, testServer, Config{}, s)
		c.Feed(0, cat([]byte("GET /chat HTTP/1.1\r\nHost: x\r\n\r\n"), cf), testTime)
		c.Feed(1, cat([]byte(tc.resp), sf), testTime)
		c.End(testTime)
		got := s.String()
		if i := strings.LastIndex(got, "\nE "); i >= 0 {
			got = got[:i]
		}
		if got != tc.want {
			t.Errorf("answered %.15q: got\n%s\nwant\n%s", tc.resp, got, tc.want)
		}
	}
}

// A 101 that comes before the upgrade request's body has ended: that
// server did not wait for the body, so what follows is searched for
// frames (as after a gap), the body so far counted as skipped.
func TestUpgradeBeforeBodyEnds(t *testing.T) {
	frames := func(key []byte, n int) []byte {
		var b []byte
		for i := 0; i < n; i++ {
			b = append(b, frame(true, 0, OpText, key, fmt.Sprintf("message number %d, in words", i))...)
		}
		return b
	}
	cf, sf := frames(testMask, 6), frames(nil, 2)
	req := strings.Replace(upgradeRequest(""), "Host:", "Content-Length: 400\r\nHost:", 1)
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{}, s)
	c.Feed(0, []byte(req+"ab"), testTime)
	c.Feed(1, cat([]byte(upgradeResponse("")), sf), testTime)
	c.Feed(0, cf, testTime)
	c.End(testTime)
	st := s.sum.Stats[0]
	if st.Frames != 6 || st.WireBytes != uint64(len(cf)) || st.SkippedBytes != 2 || s.sum.Anomalies&AnomUpgradeRequestBody == 0 {
		t.Errorf("got %+v %s, want 6 frames, %d bytes, 2 skipped, upgrade_request_body\n%s", st, s.sum.Anomalies, len(cf), s)
	}
}

// Bytes after a gap in which the frame boundaries are not found again
// before the end (too few frames to prove them, or none) are counted as
// skipped: until session 34 they were counted nowhere (skipped_bytes 0
// for 49 bytes of junk, and for a Close frame alone after a hole).
func TestUnfoundAfterGapCounted(t *testing.T) {
	cf := cat(frame(true, 0, OpText, testMask, "hello"), frame(true, 0, OpText, testMask, "world"))
	for _, tail := range [][]byte{
		[]byte("garbage that is no frame at all, \x00\x01 twice garbage"),
		cat([]byte("cd"), cf),
		frame(true, 0, OpClose, testMask, "\x03\xe8"),
	} {
		s := &logSink{}
		c := NewConn(1, testClient, testServer, Config{}, s)
		c.Feed(0, cat([]byte(upgradeRequest("")), cf), testTime)
		c.Feed(1, []byte(upgradeResponse("")), testTime)
		c.Gap(0, 5, testTime)
		c.Feed(0, tail, testTime)
		c.End(testTime)
		st := s.sum.Stats[0]
		if got := st.WireBytes + st.SkippedBytes; st.LostBytes != 5 || got != uint64(len(cf)+len(tail)) {
			t.Errorf("%q after a gap: %d frame bytes + %d skipped, %d lost; want %d and 5 lost", tail, st.WireBytes, st.SkippedBytes, st.LostBytes, len(cf)+len(tail))
		}
	}
}

// After a 101 that names another protocol or none, or a refusal, the
// bytes of each side are searched for frames (after the 101) or counted
// as skipped, the handshake saying why: until session 34 they counted
// nowhere (a 101 to "foo" and two frames each way: skipped 0/0; the
// connection was done and its later bytes not even fed), and frames
// after such a 101 were never shown.
func TestNotDecodedAfterHandshakeCounted(t *testing.T) {
	frames := func(key []byte, n int) []byte {
		var b []byte
		for i := 0; i < n; i++ {
			b = append(b, frame(true, 0, OpText, key, fmt.Sprintf("message %d", i))...)
		}
		return b
	}
	resp := upgradeResponse("")
	other, none := strings.Replace(resp, "Upgrade: websocket", "Upgrade: foo", 1), strings.Replace(resp, "Upgrade: websocket\r\n", "", 1)
	refused := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	for _, tc := range []struct {
		name, resp string
		n          int // frames each way
		cfg        Config
		want       string
	}{
		{"101 foo", other, 2, Config{}, "0+30 0+22 upgrade_not_websocket"},
		{"101 without Upgrade", none, 2, Config{}, "0+30 0+22 upgrade_not_websocket"},
		{"101 foo, no search", other, 2, Config{NoSniff: true}, "0+30 0+22 upgrade_not_websocket"},
		{"101 foo, frames", other, 6, Config{}, "90+0 66+0 upgrade_not_websocket"},
		{"refused", refused, 2, Config{}, "0+30 0+22 upgrade_refused"},
	} {
		cf, sf := frames(testMask, tc.n), frames(nil, tc.n)
		s := &logSink{}
		c := NewConn(1, testClient, testServer, tc.cfg, s)
		c.Feed(0, []byte(upgradeRequest("")), testTime)
		c.Feed(1, []byte(tc.resp), testTime)
		c.Feed(1, sf, testTime)
		if c.Done() {
			t.Errorf("%s: done after the answer: the bytes after it would not be fed", tc.name)
		}
		c.Feed(0, cf, testTime)
		c.End(testTime)
		st := s.sum.Stats
		got := fmt.Sprintf("%d+%d %d+%d %s", st[0].WireBytes, st[0].SkippedBytes, st[1].WireBytes, st[1].SkippedBytes, s.sum.Anomalies)
		if got != tc.want {
			t.Errorf("%s: got %s, want %s\n%s", tc.name, got, tc.want, s)
		}
	}
	// A side no longer decoded of a reported connection loses bytes too.
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{}, s)
	c.Feed(0, []byte(upgradeRequest("")), testTime)
	c.Feed(1, []byte(refused), testTime)
	c.Feed(0, []byte("\x00junk"), testTime)
	c.Gap(0, 7, testTime)
	c.End(testTime)
	if st := s.sum.Stats[0]; st.SkippedBytes != 5 || st.LostBytes != 7 {
		t.Errorf("junk, then a gap, after a refusal: skipped %d, lost %d, want 5 and 7", st.SkippedBytes, st.LostBytes)
	}
}

// After a 101 to another protocol, the search for frames gives up after
// MaxSniff bytes of each side, as one without a handshake does: the
// other protocol's bytes are frames only by chance. Since 5883227 the
// search went on to the end of the connection, which is never done: a
// 100 MB stream after a 101 to foo cost 5 s of CPU rather than 0.2 s.
// The bytes are counted as skipped all the same, once.
func TestNotWebSocketSearchBounded(t *testing.T) {
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{MaxSniff: 1 << 10}, s)
	c.Feed(0, []byte(upgradeRequest("")), testTime)
	c.Feed(1, []byte(strings.Replace(upgradeResponse(""), "Upgrade: websocket", "Upgrade: foo", 1)), testTime)
	junk := []byte(strings.Repeat("\x00\x01 no frames here \xff", 200))
	for i := 0; i < 3; i++ {
		c.Feed(1, junk, testTime)
	}
	if m := c.half[1].mode; m != modeIgnore {
		t.Errorf("server side after %d bytes of another protocol: mode %d, want %d (modeIgnore): still searched", 3*len(junk), m, modeIgnore)
	}
	c.Feed(1, junk, testTime)
	if c.hit().Sniff != 0 {
		t.Errorf("the search's end counted as a --max-sniff hit (%d): upgrade_not_websocket says it", c.hit().Sniff)
	}
	c.End(testTime)
	if st := s.sum.Stats[1]; st.SkippedBytes != uint64(4*len(junk)) || st.WireBytes != 0 {
		t.Errorf("skipped %d, wire %d, want %d and 0", st.SkippedBytes, st.WireBytes, 4*len(junk))
	}
}

// Bytes that are no HTTP after a request that asked for no upgrade are
// held for the answer (a 101 to websocket may come all the same), but a
// client past the limit then is no sign of a WebSocket client failing:
// since db6a7dc a CONNECT whose answer the capture lacks, with 1 MiB of
// TLS after it, said "clients sent more than --max-pending bytes before
// the upgrade was answered" (pending_limit) of a connection with no
// upgrade at all.
func TestHeldAfterPlainRequestQuiet(t *testing.T) {
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{MaxPending: 1 << 10}, s)
	c.Feed(0, []byte("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"), testTime)
	junk := []byte(strings.Repeat("\x16\x03\x01 no HTTP", 100))
	c.Feed(0, junk[:10], testTime)
	if m := c.half[0].mode; m == modeAwait {
		t.Errorf("TLS after a CONNECT held for an answer (up to --max-pending): no client frame starts so")
	}
	// What may be a client's frame (masked) is held; past the limit, no
	// word.
	c = NewConn(1, testClient, testServer, Config{MaxPending: 1 << 10}, s)
	c.Feed(0, []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), testTime)
	for i := 0; i < 3; i++ {
		c.Feed(0, append([]byte{0x81, 0xfe, 0x03, 0xe8}, junk[:1000]...), testTime)
	}
	c.End(testTime)
	if n := c.hit().Pending; n != 0 || s.sum.Anomalies&AnomPendingLimit != 0 {
		t.Errorf("no upgrade asked, 3 KiB held: %d pending-limit hits, anomalies %s; want none", n, s.sum.Anomalies)
	}
}
