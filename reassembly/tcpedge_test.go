package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// bytesSink is a logSink whose end lines also give the bytes lost and
// skipped each way.
type bytesSink struct{ logSink }

func (l *bytesSink) Put(r *record.Record) {
	if r.Kind == record.End {
		s := r.Summary.Stats
		l.add(r.Conn, "counts lost %d/%d skipped %d/%d", s[0].LostBytes, s[1].LostBytes, s[0].SkippedBytes, s[1].SkippedBytes)
	}
	l.logSink.Put(r)
}

// edgeRun decodes pkts with -j 1 and -j 2, wants the same lines from both
// and each of want exactly once, and returns the lines.
func edgeRun(t *testing.T, name string, pkts []synth.Packet, want ...string) []string {
	t.Helper()
	var first []string
	for _, jobs := range []int{1, 2} {
		l := &bytesSink{}
		decodeAll(l, pkts, Options{}, jobs)
		bad := false
		for _, w := range want {
			if n := l.count(w); n != 1 {
				t.Errorf("%s, -j %d: %q seen %d times, want once", name, jobs, w, n)
				bad = true
			}
		}
		if bad {
			t.Logf("%s, -j %d records:\n%s", name, jobs, strings.Join(l.lines, "\n"))
			return nil
		}
		if jobs == 1 {
			first = l.lines
		} else if strings.Join(first, "\n") != strings.Join(l.lines, "\n") {
			t.Errorf("%s: -j 1 and -j 2 differ:\n%s\n--\n%s", name, strings.Join(first, "\n"), strings.Join(l.lines, "\n"))
		}
	}
	return first
}

// wrapConv opens a connection whose sides' first frames after the
// upgrade start 5 bytes before 2^32.
func wrapConv() *synth.Conv {
	return synth.New("192.0.2.1:40000", "192.0.2.2:80").ISNBeforeWrap(5).Open().Upgrade()
}

// TestSequenceWrap: segments across the wrap of the sequence space (2^32)
// are put together as anywhere else. gopacket's Sequence.Difference is one
// short there: a retransmission across the wrap gave its last byte again
// (the next frame read as opcode 3, reserved_opcode), and a lost segment
// across it was a byte short of lost_bytes (19 of 20; a 1-byte hole was
// none). tshark agrees on the first three (TestSequenceWrapAgreesWithTshark);
// after a hole it decodes nothing more of that side.
func TestSequenceWrap(t *testing.T) {
	c1, s1 := synth.WSFrame(true, wsparse.OpText, []byte("hello client a")), synth.WSFrame(false, wsparse.OpText, []byte("hello server a"))
	rest := func(c *synth.Conv) []synth.Packet {
		c.Frame(true, wsparse.OpText, []byte("hello client b")).Frame(false, wsparse.OpText, []byte("hello server b"))
		return c.Fin(true).Fin(false).Packets
	}
	clean := []string{
		`message c2s "hello client a" []`, `message s2c "hello server a" []`,
		`message c2s "hello client b" []`, `message s2c "hello server b" []`,
		"end fin_without_close frames 2/2 []", "counts lost 0/0 skipped 0/0",
	}
	retrans := wrapConv().Send(true, c1).Send(false, s1)
	retrans.Retransmit(true, len(c1), c1).Retransmit(false, len(s1), s1)
	edgeRun(t, "retransmission across the wrap", rest(retrans), clean...)

	// The head's last 10 bytes and the frame, joined in one retransmission.
	joined := wrapConv().Send(true, c1).Send(false, s1)
	tail := []byte(synth.UpgradeRequest + "\r\n")
	joined.Retransmit(true, len(c1)+10, append(tail[len(tail)-10:], c1...))
	edgeRun(t, "joined retransmission across the wrap", rest(joined), clean...)

	// The bytes after the wrap come before those before it.
	ooo := wrapConv()
	ooo.DropNext = 1
	ooo.Segment(true, c1[:5]).Segment(true, c1[5:]).Retransmit(true, len(c1), c1[:5]).Send(false, s1)
	edgeRun(t, "out of order across the wrap", rest(ooo), clean...)

	lost := wrapConv()
	lost.DropNext = 1
	lost.Send(true, c1).Send(false, s1)
	// The client's next frame, alone after the hole, is too little to
	// find the boundaries again by: not decoded, so skipped (until
	// session 34 counted nowhere: skipped 0).
	edgeRun(t, "a segment lost across the wrap", rest(lost), `message s2c "hello server a" []`,
		`message s2c "hello server b" []`, fmt.Sprintf("counts lost %d/0 skipped 20/0", len(c1)))

	// The hole is the one byte at 2^32-1.
	hole := wrapConv()
	hole.Send(true, c1[:4])
	hole.DropNext = 1
	hole.Segment(true, c1[4:5]).Send(true, c1[5:]).Send(false, s1)
	edgeRun(t, "one byte lost at the wrap", rest(hole), `message s2c "hello server a" []`,
		`message s2c "hello server b" []`, "counts lost 1/0 skipped 35/0")
}

// TestDataAfterFinOrRst: bytes a side sends past its FIN, or on a RST, are
// dropped by the receiver (RFC 9293 §3.10.7.4, §3.5.3). They are not
// decoded, count in skipped_bytes and raise tcp_data_discarded. Before,
// a RST's were decoded as frames (tshark shows them as the reset cause,
// not as WebSocket), and those after a FIN were dropped by gopacket with
// no word. A Close frame on the FIN itself is the side's last bytes.
func TestDataAfterFinOrRst(t *testing.T) {
	open := func() *synth.Conv {
		return synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("before"))
	}
	after := synth.WSFrame(true, wsparse.OpText, []byte("after fin"))
	closeC, closeS := synth.WSFrame(true, wsparse.OpClose, []byte{3, 0xe8}), synth.WSFrame(false, wsparse.OpClose, []byte{3, 0xe8})

	onFin := open().Frame(false, wsparse.OpClose, []byte{3, 0xe8})
	onFin.Flagged(true, 0, &layers.TCP{FIN: true, ACK: true, PSH: true}, closeC)
	onFin.Flagged(true, len(closeC)+1, &layers.TCP{FIN: true, ACK: true, PSH: true}, closeC) // again
	edgeRun(t, "a Close frame on the FIN", onFin.Fin(false).Packets, `message c2s "before" []`,
		"end clean frames 2/1 []", "counts lost 0/0 skipped 0/0")

	// The client sends on after its FIN, as if it took no number, and
	// at the FIN's own number, and again (each copy is counted, as wire
	// bytes are).
	for _, back := range []int{0, 1} {
		c := open().Fin(true)
		c.Flagged(true, back, &layers.TCP{ACK: true, PSH: true}, after)
		c.Flagged(true, len(after), &layers.TCP{ACK: true, PSH: true}, after)
		c.Frame(false, wsparse.OpText, []byte("server still")).Fin(false)
		edgeRun(t, fmt.Sprintf("data %d after the FIN's number", 1-back), c.Packets, `message s2c "server still" []`,
			"end fin_without_close frames 1/1 [tcp_data_discarded]", fmt.Sprintf("counts lost 0/0 skipped %d/0", 2*len(after)))
	}

	// A FIN with a Close frame, retransmitted with a frame past it: the
	// Close is decoded once.
	joined := open().Flagged(true, 0, &layers.TCP{FIN: true, ACK: true}, closeC)
	joined.Flagged(true, len(closeC)+1, &layers.TCP{FIN: true, ACK: true}, append(closeC, after...))
	edgeRun(t, "a retransmitted FIN with bytes past it", joined.Fin(false).Packets,
		"end close_unanswered frames 2/0 [tcp_data_discarded]", fmt.Sprintf("counts lost 0/0 skipped %d/0", len(after)))

	rst := open().Flagged(false, 0, &layers.TCP{RST: true, ACK: true}, closeS)
	edgeRun(t, "a RST with a frame", rst.Packets, `message c2s "before" []`,
		"end rst_without_close frames 1/0 [tcp_data_discarded]", fmt.Sprintf("counts lost 0/0 skipped 0/%d", len(closeS)))
}

// TestKeepAliveAfterFin: a keep-alive after a side's FIN (a byte of
// garbage at the FIN's own number, as Windows sends; or none, as Linux)
// is a duplicate the receiver acknowledges, as before the FIN: nothing
// is skipped and no tcp_data_discarded is raised (it was: 1 byte), and
// the byte is not decoded. The
// other side's frames after the FIN (a half-close) are decoded.
func TestKeepAliveAfterFin(t *testing.T) {
	ack := func() *layers.TCP { return &layers.TCP{ACK: true} }
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("before")).Fin(true)
	c.Flagged(true, 1, ack(), []byte{0}).Wait(time.Second).Flagged(true, 1, ack(), []byte{0}).Flagged(true, 1, ack(), nil)
	c.Frame(false, wsparse.OpText, []byte("server still")).Fin(false)
	edgeRun(t, "keep-alives after the FIN", c.Packets, `message c2s "before" []`, `message s2c "server still" []`,
		"end fin_without_close frames 1/1 []", "counts lost 0/0 skipped 0/0")

	// The Close before the FIN lost, a keep-alive, then the Close again:
	// the keep-alive's byte is not handed on (gopacket, the FIN not in,
	// queued it and gave it after the Close: skipped 1, capture_truncated).
	closeC := synth.WSFrame(true, wsparse.OpClose, []byte{3, 0xe8})
	lost := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("before"))
	lost.DropNext = 1
	lost.Send(true, closeC).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(true)
	lost.Flagged(true, 1, &layers.TCP{ACK: true}, []byte{0x81}).Retransmit(true, len(closeC)+1, closeC).Fin(false)
	edgeRun(t, "a keep-alive after a FIN past a hole", lost.Packets, "end clean frames 2/1 []", "counts lost 0/0 skipped 0/0")
}

// TestTCPOptionBadLength: a segment whose TCP options have a bad length
// (under 2, or past the header) but whose data offset holds is taken, its
// options ignored from there, as a receiver (Linux's tcp_parse_options)
// and tshark do. Before, it was dropped as malformed and its frame lost.
func TestTCPOptionBadLength(t *testing.T) {
	for _, n := range []byte{0, 1, 40} {
		c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade()
		ts := &layers.TCP{ACK: true, PSH: true, Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindTimestamps, OptionData: []byte{1, 2}}}}
		c.Flagged(true, 0, ts, synth.WSFrame(true, wsparse.OpText, []byte("options")))
		c.Packets[len(c.Packets)-1].Data[14+20+21] = n // the option's length
		lines := edgeRun(t, fmt.Sprintf("option length %d", n), c.Fin(true).Fin(false).Packets,
			`message c2s "options" []`, "counts lost 0/0 skipped 0/0")
		if lines == nil {
			return
		}
		_, st := run(c.Packets, Options{}, 1)
		if st.Malformed != 0 {
			t.Errorf("option length %d: %d malformed", n, st.Malformed)
		}
	}
	// A data offset under 5 words, or past the segment's end, leaves no
	// payload to trust: the segment is skipped, counted malformed, its
	// bytes lost (tshark drops it too).
	for _, off := range []byte{3, 15} {
		c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("bad offset"))
		c.Packets[len(c.Packets)-1].Data[14+20+12] = off << 4
		edgeRun(t, fmt.Sprintf("data offset %d", off), c.Fin(true).Fin(false).Packets, "counts lost 16/0 skipped 0/0")
		if _, st := run(c.Packets, Options{}, 1); st.Malformed != 1 {
			t.Errorf("data offset %d: %d malformed, want 1", off, st.Malformed)
		}
	}
}

// TestLostBeforeFin: the segment before a FIN lost (here the client's
// Close frame) is lost_bytes. gopacket drops a FIN with no bytes that
// comes past what it passed on, so those bytes were counted nowhere
// (lost_bytes 0) and the connection read as a FIN without a Close. A FIN
// that only came early, its last segment after it, loses nothing.
func TestLostBeforeFin(t *testing.T) {
	closeC := synth.WSFrame(true, wsparse.OpClose, []byte{3, 0xe8})
	lost := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("before"))
	lost.DropNext = 1
	lost.Send(true, closeC).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(true).Fin(false)
	edgeRun(t, "a Close lost before the FIN", lost.Packets, `message c2s "before" []`,
		fmt.Sprintf("counts lost %d/0 skipped 0/0", len(closeC)))

	// Lost bytes, then a segment, then the FIN: the hole is pushed
	// through once.
	twice := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("before"))
	twice.DropNext = 1
	twice.Frame(true, wsparse.OpText, []byte("lost")).Send(true, closeC).Fin(true).Fin(false)
	edgeRun(t, "a hole, a segment, the FIN", twice.Packets, "counts lost 10/0 skipped 8/0") // the Close after the hole: not found again

	early := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("before"))
	early.DropNext = 1
	early.Send(true, closeC).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(true).Retransmit(true, len(closeC)+1, closeC).Fin(false)
	edgeRun(t, "a FIN before its last segment", early.Packets, "end clean frames 2/1 []", "counts lost 0/0 skipped 0/0")
}
