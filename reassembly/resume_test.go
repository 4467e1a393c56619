package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestEvictedWebSocketGoesOn: a WebSocket connection ended early by
// --max-connections 1 (not parked: found mid-stream only at its end, or
// parked and then ended past the parking bound) goes on later with one
// frame each way. Each shape: connection A sends one frame each way at 0 s
// and again at 20 s or 200 s; B (and C) open with a handshake between.
// A's later frames are decoded under its number, marked
// connection_resumed, -j 1 and -j 2 alike. Before, the piece after the
// resume was searched for framing afresh, as a connection never seen:
// one frame a side proves nothing there, the piece was ended again at the
// next eviction as "not WebSocket", and its frames were in no record and
// no count; past two minutes A's tomb was forgotten and it came back as a
// new connection, with the same end.
func TestEvictedWebSocketGoesOn(t *testing.T) {
	for _, tc := range []struct {
		name      string
		handshake bool // A opens with a handshake; else it is caught mid-stream
		later     time.Duration
		conns     int
	}{
		{"mid-stream 20s", false, 20 * time.Second, 2},
		{"mid-stream 200s", false, 200 * time.Second, 2},
		{"handshake 20s", true, 20 * time.Second, 3},
		{"handshake 200s", true, 200 * time.Second, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := synth.New("192.0.2.1:40050", "192.0.2.2:80")
			if tc.handshake {
				a.Open().Upgrade()
			}
			a.Frame(false, wsparse.OpText, []byte("server 0")).Frame(true, wsparse.OpText, []byte("client 0"))
			n := len(a.Packets)
			a.At(tc.later).Frame(false, wsparse.OpText, []byte("server 1")).Frame(true, wsparse.OpText, []byte("client 1"))
			pkts := append([]synth.Packet(nil), a.Packets[:n]...)
			pkts = append(pkts, synth.New("192.0.2.1:40051", "192.0.2.2:80").At(10*time.Second).Open().Upgrade().Frame(true, wsparse.OpText, []byte("b")).Packets...)
			if tc.handshake {
				// A and B parked in turn: A, parked longest, is ended.
				pkts = append(pkts, synth.New("192.0.2.1:40052", "192.0.2.2:80").At(12*time.Second).Open().Upgrade().Frame(true, wsparse.OpText, []byte("c")).Packets...)
			}
			pkts = append(pkts, a.Packets[n:]...)
			l, st := sameRecords(t, pkts, Options{MaxConnections: 1})
			const pre = "conn 1 192.0.2.1:40050->192.0.2.2:80 "
			for _, m := range []string{`message s2c "server 0" []`, `message c2s "client 0" []`, `message s2c "server 1" []`, `message c2s "client 1" []`} {
				if k := l.count(pre + m); k != 1 {
					t.Errorf("%s: %d times, want 1", m, k)
				}
			}
			ends := l.count(pre + "end ")
			if ends != 2 || l.count(pre+"end open frames 1/1 [connection_resumed]") != 1 {
				t.Errorf("A: %d ends, want 2, the second marked connection_resumed", ends)
			}
			if st.Resumed != 1 || st.Connections != tc.conns || st.ResumedUnframed != 0 {
				t.Errorf("%d resumed, %d connections, %d bytes unframed", st.Resumed, st.Connections, st.ResumedUnframed)
			}
			if t.Failed() {
				t.Logf("stats %+v\n%s", st, strings.Join(l.lines, "\n"))
			}
		})
	}
}

// TestEvictedUnframedCounted: a connection caught mid-stream ended early
// by --max-connections 1 before any framing was found in it (one server
// frame at 0 s), going on at 20 s with a frame each way, is ended again
// while its framing is still unknown, and goes on again: no piece shows a
// frame a side, and none makes a record. Without the bound the three
// frames are decoded (one connection). The bytes searched in the pieces
// (10 + 10 + 14) are counted (Stats.ResumedUnframed, said on stderr),
// -j 1 and -j 2 alike; before, nothing said them.
func TestEvictedUnframedCounted(t *testing.T) {
	a := synth.New("192.0.2.1:40050", "192.0.2.2:80")
	a.Frame(false, wsparse.OpText, []byte("server 0"))
	n := len(a.Packets)
	a.At(20*time.Second).Frame(false, wsparse.OpText, []byte("server 1")).Frame(true, wsparse.OpText, []byte("client 1"))
	pkts := append([]synth.Packet(nil), a.Packets[:n]...)
	pkts = append(pkts, synth.New("192.0.2.1:40051", "192.0.2.2:80").At(10*time.Second).Open().Upgrade().Frame(true, wsparse.OpText, []byte("b")).Packets...)
	pkts = append(pkts, a.Packets[n:]...)
	whole, st := run(pkts, Options{}, 1)
	if k := whole.count("conn 1 192.0.2.1:40050->192.0.2.2:80 message "); k != 3 || st.ResumedUnframed != 0 {
		t.Fatalf("without the bound: %d messages of A, want 3; %d bytes unframed", k, st.ResumedUnframed)
	}
	for _, jobs := range []int{1, 2} {
		l, st := run(pkts, Options{MaxConnections: 1}, jobs)
		if st.ResumedUnframed != 10+10+14 || l.count("conn 1 ") != 0 {
			t.Errorf("-j %d: %d bytes unframed, want 34; %d records of A, want 0 (stats %+v)", jobs, st.ResumedUnframed, l.count("conn 1 "), st)
		}
	}
}

// TestEvictedWebSocketPortReused: a WebSocket connection ended early by
// --max-connections 1 past the parking bound (A, 0 s), and an hour later
// another connection on the same 4-tuple with other sequence numbers (B:
// its SYN captured, its SYN lost, or caught mid-stream), three frames each
// way. B is a connection of its own, found afresh: A ends once, not
// resumed. Its tomb kept however long (no longer forgotten after two
// minutes), B's SYN-ACK or first segment was taken for A going on, and B
// was decoded as the rest of A.
func TestEvictedWebSocketPortReused(t *testing.T) {
	for _, open := range []string{"syn", "syn lost", "mid-stream"} {
		t.Run(open, func(t *testing.T) {
			a := synth.New("192.0.2.1:40050", "192.0.2.2:80")
			a.Open().Upgrade().Frame(false, wsparse.OpText, []byte("server 0")).Frame(true, wsparse.OpText, []byte("client 0"))
			pkts := append([]synth.Packet(nil), a.Packets...)
			// Two more open at 10 and 12 s: A and the first parked in turn,
			// A, parked longest, is ended. They close at 60 s, leaving B
			// alone.
			var fins []synth.Packet
			for i, at := range []time.Duration{10 * time.Second, 12 * time.Second} {
				c := synth.New(fmt.Sprintf("192.0.2.1:%d", 40051+i), "192.0.2.2:80").At(at).Open().Upgrade().Frame(true, wsparse.OpText, []byte("c"))
				n := len(c.Packets)
				c.At(time.Minute).Fin(true).Fin(false)
				pkts = append(pkts, c.Packets[:n]...)
				fins = append(fins, c.Packets[n:]...)
			}
			pkts = synth.ByTime(pkts, fins)
			b := synth.New("192.0.2.1:40050", "192.0.2.2:80").ISN(700000000, 900000000).At(time.Hour)
			if open != "mid-stream" {
				b.Open()
			}
			if open == "syn lost" {
				b.Packets = b.Packets[1:]
			}
			for i := range 3 {
				b.Frame(false, wsparse.OpText, []byte(fmt.Sprintf("new server %d", i))).Frame(true, wsparse.OpText, []byte(fmt.Sprintf("new client %d", i)))
			}
			pkts = append(pkts, b.Packets...)
			l, st := sameRecords(t, pkts, Options{MaxConnections: 1})
			const pre = "conn 1 192.0.2.1:40050->192.0.2.2:80 "
			if l.count(pre+"end ") != 1 || l.count("[connection_resumed]") != 0 || l.count(pre+"message") != 2 {
				t.Errorf("A: %d ends, %d messages, want 1, 2, none resumed", l.count(pre+"end "), l.count(pre+"message"))
			}
			if k := l.count(`192.0.2.1:40050->192.0.2.2:80 message s2c "new server`); k != 3 {
				t.Errorf("B: %d server messages, want 3", k)
			}
			if t.Failed() {
				t.Logf("stats %+v\n%s", st, strings.Join(l.lines, "\n"))
			}
		})
	}
}

// TestEvictedWebSocketKeepAlive: a WebSocket connection ended early by
// --max-connections 1 past the parking bound sends a bare ACK (a TCP
// keep-alive) at 20 s, ended early again when another connection opens at
// 21 s, and a frame each way just after. It ends twice: at the first
// eviction, and with the later frames (connection_resumed). Before, the
// keep-alive's piece made a decoder, WebSocket from its start, and a
// record of its own ("frames 0/0"): one more end for each keep-alive
// between two evictions.
func TestEvictedWebSocketKeepAlive(t *testing.T) {
	a := synth.New("192.0.2.1:40050", "192.0.2.2:80")
	a.Open().Upgrade().Frame(false, wsparse.OpText, []byte("server 0")).Frame(true, wsparse.OpText, []byte("client 0"))
	pkts := append([]synth.Packet(nil), a.Packets...)
	for i, at := range []time.Duration{10 * time.Second, 12 * time.Second, 21 * time.Second} {
		pkts = append(pkts, synth.New(fmt.Sprintf("192.0.2.1:%d", 40051+i), "192.0.2.2:80").At(at).Open().Upgrade().Frame(true, wsparse.OpText, []byte("c")).Packets...)
	}
	n := len(a.Packets)
	a.At(20*time.Second).Flagged(true, 0, &layers.TCP{ACK: true}, nil)
	a.Step = time.Microsecond // between the new connection's SYN and SYN-ACK
	a.At(21*time.Second+100*time.Microsecond).Frame(false, wsparse.OpText, []byte("server 1")).Frame(true, wsparse.OpText, []byte("client 1"))
	pkts = synth.ByTime(pkts, a.Packets[n:])
	l, st := sameRecords(t, pkts, Options{MaxConnections: 1})
	const pre = "conn 1 192.0.2.1:40050->192.0.2.2:80 "
	if l.count(pre+"end ") != 2 || l.count(pre+"end open frames 1/1 [connection_resumed]") != 1 || l.count(pre+"message") != 4 {
		t.Errorf("A: %d ends, %d messages, want 2 (the second resumed with a frame each way), 4", l.count(pre+"end "), l.count(pre+"message"))
	}
	if st.Resumed != 2 {
		t.Errorf("%d resumed, want 2", st.Resumed)
	}
	if t.Failed() {
		t.Logf("stats %+v\n%s", st, strings.Join(l.lines, "\n"))
	}
}

// TestTombsBoundedByCount: tombs are no longer forgotten by time, so the
// count alone bounds them: 3 000 connections caught mid-stream, one
// segment each a second apart (50 minutes), none closed, --max-connections
// 20. The tombs held never pass twice the limit and one eviction's tenth.
func TestTombsBoundedByCount(t *testing.T) {
	const limit, n = 20, 3000
	a := New(&logSink{}, Options{MaxConnections: limit})
	most := 0
	for i := range n {
		c := synth.New(fmt.Sprintf("10.1.%d.%d:%d", i/250, i%250+1, 20000+i%1000), "192.0.2.2:80").At(time.Duration(i) * time.Second)
		for _, p := range c.Segment(true, []byte("not framed")).Packets {
			a.Packet(1, p.Data, p.TS, len(p.Data))
		}
		most = max(most, len(a.tombs))
	}
	a.Finish()
	if st := a.Stats(); most > 2*limit+limit/10 || st.Evicted < n-limit {
		t.Errorf("%d tombs held at most, want %d or fewer; %d evicted", most, 2*limit+limit/10, st.Evicted)
	}
}

// TestEvictedDeflatedWebSocketGoesOn: TestEvictedWebSocketGoesOn's
// connection with a handshake, negotiating permessage-deflate, each
// message compressed: its later message each way, one compressed frame
// a side, is found and inflated under its number. Before, the tomb did
// not say so, and one compressed frame a side was too little to find: the
// messages were skipped.
func TestEvictedDeflatedWebSocketGoesOn(t *testing.T) {
	a := synth.New("192.0.2.1:40050", "192.0.2.2:80").Open()
	a.Send(true, []byte("GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"))
	a.Send(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"))
	a.Send(false, synth.WSDeflated(false, [4]byte{1, 2, 3, 4}, "server 0"))
	a.Send(true, synth.WSDeflated(true, [4]byte{1, 2, 3, 4}, "client 0"))
	n := len(a.Packets)
	a.At(200 * time.Second)
	a.Send(false, synth.WSDeflated(false, [4]byte{1, 2, 3, 4}, "server 1"))
	a.Send(true, synth.WSDeflated(true, [4]byte{1, 2, 3, 4}, "client 1"))
	pkts := append([]synth.Packet(nil), a.Packets[:n]...)
	for i, at := range []time.Duration{10 * time.Second, 12 * time.Second} {
		// A and B parked in turn: A, parked longest, is ended.
		pkts = append(pkts, synth.New(fmt.Sprintf("192.0.2.1:%d", 40051+i), "192.0.2.2:80").At(at).Open().Upgrade().Frame(true, wsparse.OpText, []byte("c")).Packets...)
	}
	pkts = append(pkts, a.Packets[n:]...)
	l, st := sameRecords(t, pkts, Options{MaxConnections: 1})
	const pre = "conn 1 192.0.2.1:40050->192.0.2.2:80 "
	for _, m := range []string{`message s2c "server 0"`, `message c2s "client 0"`, `message s2c "server 1"`, `message c2s "client 1"`} {
		if k := l.count(pre + m); k != 1 {
			t.Errorf("%s: %d times, want 1", m, k)
		}
	}
	if st.Resumed != 1 || l.count(pre+"end open frames 1/1 [connection_resumed]") != 1 {
		t.Errorf("%d resumed, want 1, its end marked connection_resumed", st.Resumed)
	}
	if t.Failed() {
		t.Logf("stats %+v\n%s", st, strings.Join(l.lines, "\n"))
	}
}
