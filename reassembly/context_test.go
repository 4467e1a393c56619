package reassembly

import (
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TestContextReuse: a packet gopacket queues no bytes of leaves its
// context to nothing, and the next packet uses it again: the ACKs of an
// open connection allocate nothing. Each packet made a new context
// before (one allocation, 80 bytes: 48 MB over the 700 000 packets of
// 100 000 open connections). The test fails, too, if gopacket's page
// counters (unexported) cannot be found.
func TestContextReuse(t *testing.T) {
	a := New(record.Adapt(&countSink{}), Options{})
	if a.pageOps == nil {
		t.Fatal("gopacket's page cache counters (Assembler.pc.ops, size) not found")
	}
	openConns(a, 1)
	client, server := [4]byte{10, 0, 0, 0}, [4]byte{192, 0, 2, 2}
	ack := synth.RawTCP4(client, server, 1024, 80, 1000+1+uint32(len(synth.UpgradeRequest)+2)+70, 5000+1+uint32(len(synth.UpgradeResponse)+2)+1004, flagACK, nil)
	ts := time.Date(2024, 1, 1, 0, 0, 0, 500000, time.UTC)
	allocs := testing.AllocsPerRun(1000, func() {
		a.Packet(101, ack, ts, len(ack))
	})
	t.Logf("%.2f allocations per ACK of an open connection", allocs)
	if allocs != 0 {
		t.Errorf("%.2f allocations per ACK, want 0", allocs)
	}
	if a.live.len() != 1 {
		t.Fatalf("%d connections live", a.live.len())
	}
}

// TestContextKeptOutOfOrder: a segment that came out of order keeps its
// own context while later packets (another connection's) go by: when the
// gap timeout pushes it through, it has the time it was captured, not a
// later packet's.
func TestContextKeptOutOfOrder(t *testing.T) {
	l := &timedSink{}
	a := New(l, Options{})
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c, s := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	req := []byte(synth.UpgradeRequest + "\r\n")
	resp := []byte(synth.UpgradeResponse + "\r\n")
	cseq, sseq := uint32(100), uint32(900)
	a.Packet(101, synth.RawTCP4(c, s, 40000, 80, cseq, sseq, flagPSH|flagACK, req), ts, 40+len(req))
	cseq += uint32(len(req))
	a.Packet(101, synth.RawTCP4(s, c, 80, 40000, sseq, cseq, flagPSH|flagACK, resp), ts, 40+len(resp))
	sseq += uint32(len(resp))
	// The server's first frame is lost; its second comes at 0.5 s.
	lost := wsparse.AppendHeader(nil, wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: 10})
	lost = append(lost, "first lost"...)
	second := wsparse.AppendHeader(nil, wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: 6})
	second = append(second, "second"...)
	at := ts.Add(500 * time.Millisecond)
	a.Packet(101, synth.RawTCP4(s, c, 80, 40000, sseq+uint32(len(lost)), cseq, flagPSH|flagACK, second), at, 40+len(second))
	// Another connection's packets, every 100 ms for 4 s.
	for i := 1; i <= 40; i++ {
		p := synth.RawTCP4([4]byte{10, 0, 0, 3}, s, 40001, 80, 7000+uint32(i), 1, flagACK, []byte{'x'})
		a.Packet(101, p, at.Add(time.Duration(i)*100*time.Millisecond), len(p))
	}
	a.Finish()
	// The decoder does not take the frame after the gap up; the time of
	// the connection's last bytes is the segment's.
	want := "end open last " + at.Format(time.StampMicro)
	for _, line := range l.lines {
		if strings.HasPrefix(line, "conn 1 ") && strings.Contains(line, " end ") && !strings.Contains(line, want) {
			t.Errorf("the segment pushed through after the gap: %s\nwant the time it was captured: %s", line, want)
		}
	}
	if l.count(want) != 1 {
		t.Errorf("want one %q:\n%s", want, strings.Join(l.lines, "\n"))
	}
}

// TestContextNotReusedPastLongPacket: a packet long enough to take more
// pages than gopacket's ops counter runs to before it goes back to 0 may
// leave the counters as they were although a page holds its context: its
// context is never used again.
func TestContextNotReusedPastLongPacket(t *testing.T) {
	a := New(record.Adapt(&countSink{}), Options{})
	if a.pageOps == nil {
		t.Fatal("gopacket's page cache counters (Assembler.pc.ops, size) not found")
	}
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	short := a.context(ts, 1500, 1500)
	a.contextDone()
	if a.context(ts, 1500, 1500) != short {
		t.Fatal("a short packet's context, no page taken, was not used again")
	}
	a.contextDone()
	long := a.context(ts, 200000, 200000)
	a.contextDone() // counters unchanged, as after exactly nextShrink+1 pages
	if a.context(ts, 1500, 1500) == long {
		t.Errorf("the context of a %d-byte packet was used again: a page may hold it", 200000)
	}
}
