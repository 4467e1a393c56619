package reassembly

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// holeConv: the client sends frame A, then B (lost, or held back), C;
// and E; the server answers, acknowledging past B (acked: the capture missed B)
// or only up to it (duplicate ACKs: the network lost it); wait later, B
// comes again if resend, then the server's frame "after" and the client's
// D and both FINs.
func holeConv(acked bool, wait time.Duration, resend bool) []synth.Packet {
	text := func(s string) []byte { return synth.WSFrame(true, wsparse.OpText, []byte(s)) }
	b, c := text("frame B from the client"), text("frame C from the client")
	cv := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("frame A"))
	cv.DropNext = 1
	cv.Send(true, b).Send(true, c).Frame(true, wsparse.OpText, []byte("frame E"))
	if !acked {
		cv.Unacked = len(b) + len(c) + len(text("frame E"))
	}
	cv.Frame(false, wsparse.OpText, []byte("server"))
	for range int(wait / (500 * time.Millisecond)) { // duplicate ACKs, or plain ones, twice a second
		cv.Wait(500*time.Millisecond).Segment(false, nil)
	}
	if resend {
		cv.Retransmit(true, len(b)+len(c)+len(text("frame E")), b)
	}
	cv.Unacked = 0
	return cv.Frame(false, wsparse.OpText, []byte("after")).Frame(true, wsparse.OpText, []byte("frame D")).Fin(true).Fin(false).Packets
}

// TestHeldBack: a segment the network lost (the receiver's ACKs stop at
// it) is waited for, as the receiving TCP waits for its retransmission:
// held back 3 s or 30 s, it is decoded in its place, the bytes after it
// held till then (the message after it comes after the server's later
// frame). Until session 37 wsdump passed the hole over after 2 s: B's 25
// bytes lost, then skipped as late_segment, its message never shown.
func TestHeldBack(t *testing.T) {
	for _, wait := range []time.Duration{3 * time.Second, 30 * time.Second} {
		lines := edgeRun(t, fmt.Sprint("held back ", wait), holeConv(false, wait, true), `message c2s "frame B from the client" []`,
			`message c2s "frame C from the client" []`, "counts lost 0/0 skipped 0/0", "end fin_without_close frames 5/2 []")
		if got := c2sMessages(lines); lines != nil && !slices.Equal(got, []string{"frame A", "frame B from the client", "frame C from the client", "frame E", "frame D"}) {
			t.Errorf("held back %v: client messages %q, want A, B, C, E, D", wait, got)
		}
	}
}

// TestHoleAckedPast: a hole the receiver acknowledged past is the
// capture's loss: its bytes will never be seen, and what follows it is
// pushed through once the hole is 2 s old (as before session 37; a
// capture can show the ACK before the data), not at the 120 s bound. B
// coming after that (a copy) is counted skipped, late_segment.
func TestHoleAckedPast(t *testing.T) {
	n := len(synth.WSFrame(true, wsparse.OpText, []byte("frame B from the client")))
	pk := holeConv(true, 3*time.Second, false)
	lines := edgeRun(t, "acked past", pk, `message c2s "frame C from the client" []`, fmt.Sprintf("counts lost %d/0 skipped 0/0", n))
	if i := lineOf(lines, `message c2s "frame C from the client" []`); lines != nil && i > lineOf(lines, `message s2c "after" []`) {
		t.Errorf("C waited behind a hole acknowledged past:\n%v", lines)
	}
	// 1.5 s: not yet (a late copy of B would still be decoded).
	lines = edgeRun(t, "acked past, copy at 1.5 s", holeConv(true, 1500*time.Millisecond, true), `message c2s "frame B from the client" []`)
	if lines != nil && lineOf(lines, "late_segment") >= 0 {
		t.Errorf("acked past, copy at 1.5 s: late_segment")
	}
	edgeRun(t, "acked past, copy later", holeConv(true, 3*time.Second, true), `message c2s "frame C from the client" []`,
		fmt.Sprintf("counts lost 0/0 skipped %d/0", n), "end fin_without_close frames 4/2 [late_segment]")
}

// TestHoleGivenUp: a hole the network made that is never filled is given
// up once LateWait (120 s) has passed: counted lost once, what follows
// decoded; until then what follows waits. A copy after the bound is
// skipped, late_segment.
func TestHoleGivenUp(t *testing.T) {
	n := len(synth.WSFrame(true, wsparse.OpText, []byte("frame B from the client")))
	lines := edgeRun(t, "never filled, 60 s", holeConv(false, 60*time.Second, false), `message c2s "frame C from the client" []`,
		fmt.Sprintf("counts lost %d/0 skipped 0/0", n), "end fin_without_close frames 4/2 []")
	if i := lineOf(lines, `message c2s "frame C from the client" []`); lines != nil && i < lineOf(lines, `message s2c "after" []`) {
		t.Errorf("C decoded before the bound passed:\n%v", lines)
	}
	lines = edgeRun(t, "never filled, 125 s", holeConv(false, 125*time.Second, false), `message c2s "frame C from the client" []`,
		fmt.Sprintf("counts lost %d/0 skipped 0/0", n), "end fin_without_close frames 4/2 []")
	if i := lineOf(lines, `message c2s "frame C from the client" []`); lines != nil && i > lineOf(lines, `message s2c "after" []`) {
		t.Errorf("C still waited after the bound:\n%v", lines)
	}
	edgeRun(t, "held back 125 s", holeConv(false, 125*time.Second, true), `message c2s "frame C from the client" []`,
		fmt.Sprintf("counts lost 0/0 skipped %d/0", n), "end fin_without_close frames 4/2 [late_segment]")
	l := &bytesSink{}
	decodeAll(l, holeConv(false, 125*time.Second, true), Options{LateWait: 200 * time.Second}, 1)
	if got := c2sMessages(l.lines); !slices.Equal(got, []string{"frame A", "frame B from the client", "frame C from the client", "frame E", "frame D"}) {
		t.Errorf("held back 125 s, LateWait 200 s: client messages %q, want A, B, C, E, D", got)
	}
}

// c2sMessages returns the client's messages in lines, in order.
func c2sMessages(lines []string) []string {
	var m []string
	for _, l := range lines {
		if _, after, ok := strings.Cut(l, `message c2s "`); ok {
			m = append(m, after[:strings.Index(after, `"`)])
		}
	}
	return m
}

// lineOf returns the index of the first of lines that holds w, or -1.
func lineOf(lines []string, w string) int {
	return slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, w) })
}

// TestHoleQuietPeer: when the other side sends nothing after the hole
// (a capture of one direction), nothing tells the capture's loss from the
// network's, and the hole waits GapTimeout (2 s) as before session 37.
func TestHoleQuietPeer(t *testing.T) {
	text := func(s string) []byte { return synth.WSFrame(true, wsparse.OpText, []byte(s)) }
	b := text("frame B from the client")
	conv := func(wait time.Duration) []synth.Packet {
		cv := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("frame A"))
		cv.DropNext = 1
		cv.Send(true, b).Frame(true, wsparse.OpText, []byte("frame C")).Frame(true, wsparse.OpText, []byte("frame E"))
		cv.Wait(wait).Retransmit(true, len(b)+2*len(text("frame C")), b)
		return cv.Frame(true, wsparse.OpText, []byte("frame D")).Fin(true).Fin(false).Packets
	}
	edgeRun(t, "quiet 1.5 s", conv(1500*time.Millisecond), `message c2s "frame B from the client" []`, "counts lost 0/0 skipped 0/0")
	// C, E and D, alone after the hole, are not found again (as in
	// TestLateSegment): skipped with B.
	lines := edgeRun(t, "quiet 3 s", conv(3*time.Second), "counts lost 0/0 skipped 68/0", "[late_segment]")
	if lineOf(lines, "frame B") >= 0 {
		t.Errorf("quiet 3 s: B decoded after 2 s:\n%s", strings.Join(lines, "\n"))
	}
}

// TestHoleMemory: bytes held behind holes waiting for retransmissions are
// gopacket's pages, within its limits: 40 connections, each with a hole
// its receiver is waiting on and 30 KB after it, hold no more than
// MaxBufferedPagesTotal; past it the oldest holes are pushed through,
// lost, and every byte is counted.
func TestHoleMemory(t *testing.T) {
	var pkts []synth.Packet
	b := synth.WSFrame(true, wsparse.OpBinary, make([]byte, 1000))
	for i := range 40 {
		cv := synth.New(fmt.Sprintf("192.0.2.1:%d", 40000+i), "192.0.2.2:80").Open().Upgrade()
		cv.DropNext = 1
		cv.Send(true, b)
		cv.Unacked = len(b)
		for range 30 {
			cv.Send(true, b).Segment(false, nil)
		}
		pkts = append(pkts, cv.Packets...)
	}
	slices.SortStableFunc(pkts, func(x, y synth.Packet) int { return x.TS.Compare(y.TS) })
	for _, jobs := range []int{1, 2} {
		l := &bytesSink{}
		st := decodeAll(l, pkts, Options{MaxBufferedPagesTotal: 64, MaxBufferedPagesPerConnection: 32}, jobs).Stats()
		if st.PageLimitFlushes == 0 {
			t.Errorf("-j %d: no page limit reached", jobs)
		}
		if n := l.count(fmt.Sprintf("counts lost %d/0 skipped 0/0", len(b))); n != 40 {
			t.Errorf("-j %d: %d connections with the hole counted lost once, want 40", jobs, n)
		}
		if n := l.count(`frame c2s binary`); n != 40*30 {
			t.Errorf("-j %d: %d frames after the holes decoded, want %d", jobs, n, 40*30)
		}
	}
}
