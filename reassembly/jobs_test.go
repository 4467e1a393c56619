package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// timedSink is a logSink whose lines carry the records' times too (when
// a frame was cut, when a connection ended).
type timedSink struct{ logSink }

func (l *timedSink) Put(r *record.Record) {
	switch r.Kind {
	case record.Frame:
		l.add(r.Conn, "frame %v %d/%d at %s %s", r.Frame.Dir, len(r.Frame.Payload), r.Frame.Length, r.Frame.TS.Format(time.StampMicro), r.Frame.Anomalies.Names())
	case record.End:
		s := r.Summary
		l.add(r.Conn, "end %v last %s tcp end %s %s", s.End, s.Last.Format(time.StampMicro), s.TCPEndTS[1].Format(time.StampMicro), s.Anomalies.Names())
	default:
		l.logSink.Put(r)
	}
}

// runTimed is run with a timedSink.
func runTimed(pkts []synth.Packet, opts Options, jobs int) []string {
	l := &timedSink{}
	decodeAll(l, pkts, opts, jobs)
	return l.lines
}

// sameAsOneJob checks that -j 2 and -j 3 give -j 1's records, and says
// where they part.
func sameAsOneJob(t *testing.T, name string, pkts []synth.Packet, opts Options) []string {
	t.Helper()
	one := runTimed(pkts, opts, 1)
	for _, jobs := range []int{2, 3} {
		got := runTimed(pkts, opts, jobs)
		if strings.Join(got, "\n") == strings.Join(one, "\n") {
			continue
		}
		i := 0
		for i < min(len(one), len(got)) && one[i] == got[i] {
			i++
		}
		at := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(none)"
		}
		t.Errorf("%s -j %d: record %d of %d/%d differs from -j 1:\n  -j 1: %s\n  -j %d: %s", name, jobs, i+1, len(one), len(got), at(one), jobs, at(got))
	}
	return one
}

// workerOf is the worker of a client port's connection to 192.0.2.2:80
// among n.
func workerOf(port uint16, n int) int {
	nf := gopacket.NewFlow(layers.EndpointIPv4, []byte{10, 0, 0, 1}, []byte{192, 0, 2, 2})
	tf := gopacket.NewFlow(layers.EndpointTCPPort, []byte{byte(port >> 8), byte(port)}, []byte{0, 80})
	return shard(nf, tf, n)
}

// TestClosedBoundJobsIdentical: eight short WebSocket connections, one
// after the other, each closed (Close, FIN, FIN), then the client of each
// sends its last ACK late, then a ninth connection talks; --max-connections
// 1 remembers one closed connection. -j 2 and 3 give -j 1's records, numbers
// included. Before, each worker remembered its own newest closed
// connection: a late ACK that -j 1 took for a new connection (its closed
// connection forgotten) was a late segment with -j 2, and every number
// after it was one lower (the merge of the repo's captures at
// --max-connections 1 differed the same way).
func TestClosedBoundJobsIdentical(t *testing.T) {
	const n = 8
	var convs []*synth.Conv
	var pkts []synth.Packet
	for i := 0; i < n; i++ {
		c := synth.New(fmt.Sprintf("10.0.0.1:%d", 40000+i), "192.0.2.2:80").At(time.Duration(i) * 100 * time.Millisecond).Open().Upgrade()
		c.Frame(true, wsparse.OpText, []byte(fmt.Sprintf("c%d", i+1)))
		c.Frame(true, wsparse.OpClose, []byte{3, 0xe8})
		c.Frame(false, wsparse.OpClose, []byte{3, 0xe8})
		c.Fin(false).Fin(true)
		convs = append(convs, c)
		pkts = append(pkts, c.Packets...)
	}
	workers := map[int]bool{}
	for i, c := range convs {
		workers[workerOf(uint16(40000+i), 2)] = true
		c.Packets = nil
		c.At(time.Second+time.Duration(i)*time.Millisecond).Segment(true, nil) // the last ACK, late
		pkts = append(pkts, c.Packets...)
	}
	if len(workers) != 2 {
		t.Fatalf("the connections are all on one of two workers")
	}
	last := synth.New("10.0.0.1:50000", "192.0.2.2:80").At(2 * time.Second).Open().Upgrade()
	last.Frame(true, wsparse.OpText, []byte("last"))
	pkts = append(pkts, last.Packets...)
	for _, max := range []int{1, 2, 3} {
		lines := sameAsOneJob(t, fmt.Sprintf("--max-connections %d", max), pkts, Options{MaxConnections: max})
		if max == 1 && !strings.Contains(strings.Join(lines, "\n"), `message c2s "last"`) {
			t.Errorf("no message of the last connection:\n%s", strings.Join(lines, "\n"))
		}
	}
}

// TestEndTimesJobsIdentical: a connection on one worker is ended while
// another connection's packets, on the other worker, go on: at a flush
// (idle past --idle-timeout) and at the end of the input. The frame its
// client left unfinished is cut then, at an Assembler's time: the last
// packet's before the flush, the input's last packet's at the end. Before,
// a worker cut it at the time of the last packet it had itself decoded.
func TestEndTimesJobsIdentical(t *testing.T) {
	a := synth.New("10.0.0.1:40000", "192.0.2.2:80").Open().Upgrade()
	// A 100-byte frame of which 10 bytes come.
	a.Segment(true, append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, Opcode: wsparse.OpBinary, Length: 100, Masked: true}), make([]byte, 10)...))
	port := uint16(40001)
	for workerOf(port, 2) == workerOf(40000, 2) || workerOf(port, 3) == workerOf(40000, 3) {
		port++
	}
	b := synth.New(fmt.Sprintf("10.0.0.1:%d", port), "192.0.2.2:80").At(time.Second).Open().Upgrade()
	b.Step = 300 * time.Millisecond
	for i := 0; i < 20; i++ {
		b.Frame(true, wsparse.OpText, []byte(fmt.Sprintf("b%d", i)))
	}
	pkts := append(a.Packets, b.Packets...)
	for _, tc := range []struct {
		name string
		opts Options
	}{{"end of input", Options{}}, {"idle timeout", Options{IdleTimeout: 3 * time.Second}}} {
		lines := sameAsOneJob(t, tc.name, pkts, tc.opts)
		if !strings.Contains(strings.Join(lines, "\n"), "10/100 at") {
			t.Errorf("%s: the cut frame is not there:\n%s", tc.name, strings.Join(lines, "\n"))
		}
	}
}

// TestReaderHashesNoTupleFarFromLimit: with the connections held far
// under --max-connections, a Parallel's reader bounds them by counting
// packets; it hashed every packet's 4-tuple into a set before (~10 % of
// its CPU), which only a count near the limit needs.
func TestReaderHashesNoTupleFarFromLimit(t *testing.T) {
	var pkts []synth.Packet
	for i := 0; i < 20; i++ {
		c := synth.New(fmt.Sprintf("10.0.0.1:%d", 40000+i), "192.0.2.2:80").At(time.Duration(i) * time.Millisecond).Open().Upgrade()
		c.Frame(true, wsparse.OpText, []byte("hello"))
		pkts = append(pkts, c.Packets...)
	}
	l := &logSink{}
	p := NewParallel(l, Options{}, 2)
	for _, pk := range pkts {
		p.Packet(1, pk.Data, pk.TS, len(pk.Data))
	}
	if len(p.touched) != 0 {
		t.Errorf("the reader remembers %d 4-tuples, far from the limit", len(p.touched))
	}
	p.Finish()
	if p.Stats().Connections != 20 {
		t.Errorf("%d connections, want 20", p.Stats().Connections)
	}
}
