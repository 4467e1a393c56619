package wsparse

import (
	"compress/flate"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
)

// TestViewBytes: a view names a connection for the sinks after a parallel
// merge, one per open connection: it holds no decoder (it took 1.8 KB,
// 180 MB for 100 000 open connections).
func TestViewBytes(t *testing.T) {
	const n = 10000
	views := make([]*Conn, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range views {
		views[i] = NewView(i+1, [2]netip.AddrPort{testClient, testServer})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per view", per)
	if per > 128 {
		t.Errorf("%.0f bytes per view", per)
	}
	if c := views[n-1]; c.ID != n || c.Client() != testClient || c.Server() != testServer {
		t.Errorf("view %d %v %v", c.ID, c.Client(), c.Server())
	}
	runtime.KeepAlive(views)
}

// TestOpenConnBytes: what a decoder holds for an open WebSocket connection
// (the upgrade, a 64 B frame from the client, the first 1000 B fragment of
// a message from the server, as bench/memgen writes them) is its state,
// the handshake and the 1000 bytes of the message it is assembling; the
// HTTP state, and the frame and message being assembled, exist only
// while they are used; of the handshake, once its record is out, only
// what the summary reports. It held 3 418 bytes (a 1.7 KB decoder), then
// 2 249, then 1 938, then 1 842 (the rare counts of DirStats made when
// first counted), then 1 857; now 1 745: the kept handshake 144 -> 96
// bytes (its strings one, the deflate parameters when given), the open
// message 160 -> 128 (its last frame's time in Message.TS), the decoder
// 416 -> 384 (Close frames, TCP ends, limit hits and bytes inflated made
// at the first, with the rare counts); now 1 682 (session 18): the decoder
// 384 -> 352 (the limits and sink one pointer to the assembler's Shared,
// Last kept as the time since First), the open message 128 -> 112 (its
// bytes in its Message.Data), the kept handshake 96 -> 80 (a 16-bit
// status); now 1 561 (session 19): the Conn and its decoder one
// allocation of 416 bytes, not 96 + 352 (the flags in padding, the TLS
// layer and fallback tap behind one pointer, Last's flag a sentinel), the
// kept handshake 80 -> 48 (the connection's TLS layer, the deflate
// parameters read again from the extensions, RequestTS as the time since
// First), the open message 112 -> 64
// (what changes while it is open, its TS as the time since First; the
// Message made when it ends).
// openConns opens n connections of sh as bench/memgen does: an upgrade,
// a 64 B frame from the client and the first 1000 B fragment of a message
// from the server.
func openConns(sh *Shared, n int) []*Conn { return openConnsClaiming(sh, n, 1000) }

// openConnsClaiming is openConns with a fragment whose header claims
// claim bytes (at least 1000): past 1000, the frame's payload is still
// coming.
func openConnsClaiming(sh *Shared, n, claim int) []*Conn {
	small := frame(true, 0, OpText, testMask, strings.Repeat("x", 64))
	frag := append(AppendHeader(nil, Header{Opcode: OpText, Length: uint64(claim)}), strings.Repeat("y", 1000)...)
	return openWith(sh, n, []byte(upgradeRequest("")), []byte(upgradeResponse("")), small, frag)
}

// openWith opens n connections of sh, each fed req and resp, then c2s and
// s2c.
func openWith(sh *Shared, n int, req, resp, c2s, s2c []byte) []*Conn {
	conns := make([]*Conn, n)
	for i := range conns {
		c := sh.NewConn(i+1, testClient, testServer)
		c.Feed(0, req, testTime)
		c.Feed(1, resp, testTime)
		c.Feed(0, c2s, testTime)
		c.Feed(1, s2c, testTime)
		conns[i] = c
	}
	return conns
}

// heapPerConn returns the connections open made and the heap they hold,
// per connection.
func heapPerConn(t *testing.T, open func() []*Conn) ([]*Conn, float64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC() // the pools emptied (their victims too): message buffers an earlier test gave back are not counted out
	runtime.ReadMemStats(&before)
	conns := open()
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(len(conns))
	t.Logf("%.0f bytes per open connection", per)
	return conns, per
}

// endAll ends conns, the last into a logSink whose lines it returns.
func endAll(conns []*Conn) []string {
	s := &logSink{}
	last := conns[len(conns)-1]
	last.Shared = &Shared{cfg: last.cfg, sink: s}
	for _, c := range conns {
		c.End(testTime)
	}
	return s.lines
}

func TestOpenConnBytes(t *testing.T) {
	// The connections share a Shared, as an assembler's do.
	conns, per := heapPerConn(t, func() []*Conn { return openConns(NewShared(Config{}, nopSink{}), 5000) })
	if per > 1590 {
		t.Errorf("%.0f bytes per open connection", per)
	}
	checkPrefixes(t, endAll(conns), []string{"M s2c #1 op=text frames=1 len=1000", "E end=open"})
}

// TestIdleConnBytes: an idle WebSocket connection (the upgrade and a 64 B
// frame from the client; the server sent nothing after its 101) holds no
// HTTP state on either side: the server's went when its 101 switched it,
// not at bytes that never come (it held ~100 bytes more, 10 MB over
// 100 000 idle connections). 164 bytes, then 116 (the kept handshake 96
// bytes, not 144), then 100 (80: a 16-bit status), now 68 (48: the
// connection's TLS layer, the deflate parameters read again when needed,
// RequestTS as the time since First).
func TestIdleConnBytes(t *testing.T) {
	const n = 10000
	req, resp := []byte(upgradeRequest("")), []byte(upgradeResponse(""))
	small := frame(true, 0, OpText, testMask, strings.Repeat("x", 64))
	conns := make([]*Conn, n)
	for i := range conns {
		conns[i] = NewConn(i+1, testClient, testServer, Config{}, nopSink{})
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, c := range conns {
		c.Feed(0, req, testTime)
		c.Feed(1, resp, testTime)
		c.Feed(0, small, testTime)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("%.0f bytes per idle connection after its upgrade and a frame", per)
	for side := range 2 {
		if h := conns[n-1].half[side]; h.httpHalf != nil {
			t.Errorf("side %d holds its HTTP state", side)
		}
	}
	if per > 76 {
		t.Errorf("%.0f bytes per idle connection", per)
	}
	runtime.KeepAlive(conns)
}

// TestOpenConnSpilledBytes: 40 000 connections each in the middle of a
// 1 000-byte message (as bench/memgen writes them) hold what
// SpillAbove allows of those messages in memory, the rest in the spill
// file: ~850 bytes a connection, was ~1 590 with every message in memory
// (TestOpenConnBytes).
func TestOpenConnSpilledBytes(t *testing.T) {
	conns, per := heapPerConn(t, func() []*Conn { return openConns(NewShared(Config{}, nopSink{}), 40000) })
	// 16 MiB of the 40 000 messages in memory: 420 bytes each on average.
	if per > 1100 {
		t.Errorf("%.0f bytes per open connection", per)
	}
	// The last one's message, read back from the file.
	checkPrefixes(t, endAll(conns), []string{"M s2c #1 op=text frames=1 len=1000 data=" + short([]byte(strings.Repeat("y", 1000))), "E end=open"})
}

// TestCompressedConnBytes: 2 000 connections open after one
// permessage-deflate message each way (context takeover), each of which
// inflates to 32 KiB: their windows are needed only by the next message,
// and past SpillAbove they wait in the spill file. ~12 KB a connection;
// 66 KB with both windows in memory (20 000 such connections, 22 MB of
// capture, took 1.3 GB).
func TestCompressedConnBytes(t *testing.T) {
	const n = 2000
	ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	req, resp := []byte(upgradeRequest(ext)), []byte(upgradeResponse(ext))
	text := make([]byte, 32<<10)
	for i := range text {
		text[i] = 'a' + byte(i*7%26)
	}
	z := deflateMessages(t, [][]byte{text}, true, flate.BestCompression)[0]
	c2s, s2c := frame(true, 4, OpText, testMask, string(z)), frame(true, 4, OpText, nil, string(z))
	sh := NewShared(Config{}, nopSink{})
	conns, per := heapPerConn(t, func() []*Conn { return openWith(sh, n, req, resp, c2s, s2c) })
	if per > 20000 {
		t.Errorf("%.0f bytes per open connection", per)
	}
	// The last one's next message inflates against its window, read back.
	s := &logSink{}
	c := conns[n-1]
	c.Shared = &Shared{cfg: c.cfg, sink: s}
	next := deflateMessages(t, [][]byte{text, text}, true, flate.BestCompression)[1]
	c.Feed(1, frame(true, 4, OpText, nil, string(next)), testTime)
	checkPrefixes(t, s.lines, []string{"F s2c", "M s2c #2 op=text frames=1 len=32768 data=" + short(text) + " compressed=true anomalies="})
	for _, c := range conns {
		c.End(testTime)
	}
}

// TestPartialFrameBytes: connections in the middle of a frame's payload
// (its header claims more than the 1 000 bytes sent) hold what came, not
// what the header claims (a buffer was sized to the claim, up to 1 MiB:
// 1 049 290 bytes a connection here, and 100 000 such connections took
// 722 MiB), and past SpillAbove the bytes wait in the spill file as an
// open message's do (2 000 claimed, 40 000 connections: 2 752 bytes a
// connection before, ~1 140 now).
func TestPartialFrameBytes(t *testing.T) {
	for _, tc := range []struct{ n, claim, most int }{{1000, 1 << 20, 4000}, {40000, 2000, 1400}} {
		conns, per := heapPerConn(t, func() []*Conn { return openConnsClaiming(NewShared(Config{}, nopSink{}), tc.n, tc.claim) })
		if per > float64(tc.most) {
			t.Errorf("%d connections, frames claiming %d bytes: %.0f bytes per open connection", tc.n, tc.claim, per)
		}
		// The last one's frame, read back from the file, cut by the end.
		y := short([]byte(strings.Repeat("y", 1000)))
		checkPrefixes(t, endAll(conns), []string{
			"F s2c #1 fin=false rsv=0 op=text masked=false key=00000000 len=" + fmt.Sprint(tc.claim) + " payload=" + y + " anomalies=payload_incomplete",
			"M s2c #1 op=text frames=1 len=" + fmt.Sprint(tc.claim) + " data=" + y, "E end=open"})
	}
}
