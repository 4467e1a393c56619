package reassembly

import (
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestSeqSpaceMidway: a capture that starts in the middle of a WebSocket
// connection (--ws-port), while 2 MiB of the server's bytes are in flight:
// the client's first frame acknowledges bytes 2 MiB before the server's
// first seen. It is this connection's, decoded, no seq_space_mixed.
// foreign took it for another connection's (acknowledgment more than
// lateWindow, 1 MiB, before the server's first number): "c0" not decoded,
// 7 bytes skipped, seq_space_mixed.
func TestSeqSpaceMidway(t *testing.T) {
	t.Parallel()
	c := synth.New("10.0.0.1:40000", "10.0.0.2:80").Open().Upgrade()
	n0 := len(c.Packets)
	c.Frame(true, wsparse.OpText, []byte("c0")) // acknowledges the server's bytes so far
	lagging := c.Packets[n0]
	c.MSS, c.DropNext = 4<<20, 1
	c.Send(false, make([]byte, 2<<20)) // in flight before the capture starts
	c.MSS = 1460
	n1 := len(c.Packets)
	c.Frame(false, wsparse.OpText, []byte("s0"))
	c.Frame(true, wsparse.OpText, []byte("c1"))
	c.Frame(false, wsparse.OpText, []byte("s1"))
	lagging.TS = c.Packets[n1].TS.Add(500 * time.Microsecond)
	pkts := append([]synth.Packet{c.Packets[n1], lagging}, c.Packets[n1+1:]...)

	for _, jobs := range []int{1, 2} {
		l := &bytesSink{}
		decodeAll(l, pkts, Options{WSPorts: []uint16{80}}, jobs)
		for _, w := range []string{`message c2s "c0" []`, `message c2s "c1" []`, `message s2c "s0" []`, `message s2c "s1" []`, "skipped 0/0"} {
			if n := l.count(w); n != 1 {
				t.Errorf("-j %d: %q seen %d times, want once", jobs, w, n)
			}
		}
		if n := l.count("seq_space_mixed"); n != 0 {
			t.Errorf("-j %d: seq_space_mixed on %d lines", jobs, n)
		}
		if t.Failed() {
			t.Logf("-j %d records:\n%s", jobs, strings.Join(l.lines, "\n"))
		}
	}
}

// TestSeqSpaceBounds: what foreign takes for another sequence space, on
// the numbers of one stream. A side first seen after its SYN may resend,
// and be acknowledged, up to a largest window before its first; one whose
// SYN was seen, 1 MiB. A side that sent more than 4 GiB holds every
// number after its end wrapped past its first: foreign took a lagging
// acknowledgment (or a retransmission) 3 MiB behind it for another
// connection's, as it did, at a midway start, one 3 MiB before the first.
func TestSeqSpaceBounds(t *testing.T) {
	const isn, mib = 0x7fff0000, 1 << 20
	seg := func(seq, ack uint32, syn bool) *layers.TCP {
		return &layers.TCP{Seq: seq, Ack: ack, ACK: !syn, SYN: syn, BaseLayer: layers.BaseLayer{Payload: []byte{1}}}
	}
	for _, tc := range []struct {
		name    string
		syn     bool   // the server's first segment is its SYN
		sent    uint64 // bytes the server sends after its first
		at      int64  // the probe's number, from the server's end
		foreign bool
	}{
		{"midway, 3 MiB before the first", false, 0, -3 * mib, false},
		{"midway, 2 GiB past the end", false, 0, 2 << 30, true},
		{"midway, 900 MiB before the first", false, 0, -900 * mib, false},
		{"midway, 1.5 GiB before the first", false, 0, -(3 << 29), true},
		{"SYN, 3 MiB before the first", true, 0, -3 * mib, true},
		{"SYN, 1 MiB before the first", true, 0, -mib + 2, false},
		{"4 GiB sent, 3 MiB behind the end", true, 1<<32 + mib, -3 * mib, false},
		{"2 GiB sent, 3 MiB behind the end", true, 2 << 30, -3 * mib, false},
		{"4 GiB sent, 2 GiB past the end", true, 1<<32 + mib, 2 << 30, false},
	} {
		s := &stream{}
		s.track(0, seg(1000, 0, true))
		s.track(1, seg(isn, 1001, tc.syn))
		for sent, next := uint64(0), uint32(isn+2); sent < tc.sent; {
			step := min(tc.sent-sent, 256*mib)
			sent += step
			next += uint32(step)
			if p := seg(next-1, 1001, false); s.foreign(1, p) {
				t.Fatalf("%s: the server's own segment %d bytes on is foreign", tc.name, sent)
			} else {
				s.track(1, p)
			}
		}
		x := uint32(int64(s.end[1]) + tc.at)
		if tc.at < 0 && tc.sent == 0 {
			x = uint32(int64(s.firstSeq[1]) + tc.at)
		}
		if got := s.foreign(1, seg(x, 1001, false)); got != tc.foreign {
			t.Errorf("%s: the server's segment foreign %v, want %v", tc.name, got, tc.foreign)
		}
		if got := s.foreign(0, seg(1001, x, false)); got != tc.foreign {
			t.Errorf("%s: the client's acknowledgment foreign %v, want %v", tc.name, got, tc.foreign)
		}
	}
}
