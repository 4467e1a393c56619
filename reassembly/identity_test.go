package reassembly

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// logSink writes every record as a line, with the connection's number and
// addresses as the sink sees them (a Parallel hands views).
type logSink struct{ lines []string }

func (l *logSink) add(c *wsparse.Conn, format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf("conn %d %s->%s ", c.ID, c.Client(), c.Server())+fmt.Sprintf(format, args...))
}

func (l *logSink) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	l.add(c, "handshake %d %s", h.Status, h.Anomalies.Names())
}
func (l *logSink) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	l.add(c, "frame %v %v %q %s", f.Dir, f.Opcode, f.Payload, f.Anomalies.Names())
}
func (l *logSink) Message(c *wsparse.Conn, m *wsparse.Message) {
	l.add(c, "message %v %q %s", m.Dir, m.Data, m.Anomalies.Names())
}
func (l *logSink) End(c *wsparse.Conn, s *wsparse.Summary) {
	l.add(c, "end %v frames %d/%d %s", s.End, s.Stats[0].Frames, s.Stats[1].Frames, s.Anomalies.Names())
}
func (l *logSink) Put(r *record.Record) {
	if r.Kind == record.TLS {
		l.add(r.Conn, "tls %s", r.TLS.Info.Error)
		return
	}
	record.ToWS(l, r)
}

func (l *logSink) count(substr string) int {
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

// decoder is an Assembler or a Parallel.
type decoder interface {
	Packet(link uint32, data []byte, ts time.Time, wireLen int)
	Finish()
	Stats() Stats
}

// run decodes Ethernet packets with -j jobs (1: an Assembler).
func run(pkts []synth.Packet, opts Options, jobs int) (*logSink, Stats) {
	l := &logSink{}
	return l, decodeAll(l, pkts, opts, jobs).Stats()
}

// decodeAll decodes Ethernet packets into out with -j jobs (1: an
// Assembler) and returns the finished decoder.
func decodeAll(out record.Sink, pkts []synth.Packet, opts Options, jobs int) decoder {
	var d decoder
	if jobs == 1 {
		d = New(out, opts)
	} else {
		d = NewParallel(out, opts, jobs)
	}
	for _, p := range pkts {
		d.Packet(1, p.Data, p.TS, len(p.Data))
	}
	d.Finish()
	return d
}

// TestReusedTuple: a client closes (Close, FIN, FIN, ACK), connects again
// from the same port with a new ISN, is reset, and connects a third time:
// three connections, numbered 1 to 3 as tshark's streams 0 to 2, each
// decoded in full. It was one connection, the later two lost.
func TestReusedTuple(t *testing.T) {
	pkts := synth.ReusedTuple("192.0.2.1:40000", "192.0.2.2:80", 3)
	for _, jobs := range []int{1, 2} {
		l, st := run(pkts, Options{}, jobs)
		if st.Connections != 3 {
			t.Errorf("-j %d: %d connections, want 3", jobs, st.Connections)
		}
		for k := 1; k <= 3; k++ {
			prefix := fmt.Sprintf("conn %d 192.0.2.1:40000->192.0.2.2:80 ", k)
			if n := l.count(prefix + "handshake 101"); n != 1 {
				t.Errorf("-j %d: conn %d: %d handshakes", jobs, k, n)
			}
			for i := 0; i < 3; i++ {
				for _, m := range []string{fmt.Sprintf("c2s \"c%d s%d\"", k, i), fmt.Sprintf("s2c \"s%d s%d\"", k, i)} {
					if n := l.count(prefix + "message " + m); n != 1 {
						t.Errorf("-j %d: conn %d: message %s seen %d times", jobs, k, m, n)
					}
				}
			}
			if n := l.count(prefix + "end"); n != 1 {
				t.Errorf("-j %d: conn %d: %d ends", jobs, k, n)
			}
		}
		if t.Failed() {
			t.Logf("-j %d records:\n%s", jobs, strings.Join(l.lines, "\n"))
			return
		}
	}
	// The same SYN again (a retransmission) opens nothing new.
	again := append(slices.Clone(pkts[:1]), pkts...)
	if _, st := run(again, Options{}, 1); st.Connections != 3 {
		t.Errorf("a retransmitted SYN: %d connections, want 3", st.Connections)
	}
}

// TestReuseWithoutSYN: a client closes (Close each way, FIN, FIN, ACK)
// and, on the same ports, a second conversation follows whose SYN and
// SYN-ACK were not captured, its sequence numbers far from the first's.
// It is another connection, numbered 2 and found by sniffing as in a
// capture that starts mid-connection, while a late retransmission of the
// first's last segment (its FIN) is not. Before, everything of the second
// was taken for late segments of the first and dropped, with no record.
func TestReuseWithoutSYN(t *testing.T) {
	const cli, srv = "192.0.2.1:40000", "192.0.2.2:80"
	c1 := synth.New(cli, srv).Open().Upgrade()
	c1.Frame(true, wsparse.OpText, []byte("first"))
	c1.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8})
	c1.Fin(true).Fin(false)
	fin := c1.Packets[len(c1.Packets)-1]
	c2 := synth.New(cli, srv).ISN(0x50000000, 0x60000000).Wait(time.Second).Open()
	c2.Packets = c2.Packets[:0] // its opening was not captured
	c2.Upgrade()
	for i := 0; i < 3; i++ {
		c2.Frame(true, wsparse.OpText, []byte(fmt.Sprintf("c%d", i)))
		c2.Frame(false, wsparse.OpText, []byte(fmt.Sprintf("s%d", i)))
	}
	c2.Fin(true).Fin(false)
	fin.TS = c2.Packets[0].TS.Add(-time.Millisecond)
	pkts := append(append(slices.Clone(c1.Packets), fin), c2.Packets...)
	for _, jobs := range []int{1, 2} {
		l, st := run(pkts, Options{}, jobs)
		if st.Connections != 2 {
			t.Errorf("-j %d: %d connections, want 2", jobs, st.Connections)
		}
		for _, want := range []string{"conn 1 192.0.2.1:40000->192.0.2.2:80 message c2s \"first\"",
			"conn 2 192.0.2.1:40000->192.0.2.2:80 handshake 101",
			"conn 2 192.0.2.1:40000->192.0.2.2:80 message c2s \"c2\"",
			"conn 2 192.0.2.1:40000->192.0.2.2:80 message s2c \"s2\""} {
			if l.count(want) != 1 {
				t.Errorf("-j %d: no %s", jobs, want)
			}
		}
		if t.Failed() {
			t.Logf("-j %d records:\n%s", jobs, strings.Join(l.lines, "\n"))
			return
		}
	}
}
