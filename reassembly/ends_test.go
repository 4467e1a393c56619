package reassembly

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// allocSink reads the bytes allocated so far when the connections numbered
// from and to end.
type allocSink struct {
	countSink
	from, to   int
	start, end uint64
}

func (s *allocSink) End(c *wsparse.Conn, sum *wsparse.Summary) {
	s.countSink.End(c, sum)
	if s.ends == s.from || s.ends == s.to {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		s.start, s.end = s.end, m.TotalAlloc
	}
}

// TestFinishBytes: ending the open connections at the end of the input
// (every one at once, while the live heap is at its largest) allocates
// little per connection, with one assembler (-j 1) and with two workers
// and the merger: the decoder reuses the Summary and the Handshake it
// hands to End (576 + 384 bytes a connection before), and a worker copies
// them into its chunk, reused with it (a Summary of 576 bytes, before).
// That garbage took 100 000 open connections' heap 17-30 MiB over its size
// at the end of the input (issue 16). Measured over the second half of
// the connections, once the chunks have grown.
func TestFinishBytes(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations under -race: sync.Pool drops items at random")
	}
	const n = 6000
	for _, tc := range []struct {
		name string
		jobs int
		max  float64 // ~70 and ~230 now (the merger's list of connections gone, pools)
	}{{"one assembler", 1, 200}, {"two workers", 2, 400}} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &allocSink{from: n / 2, to: n}
			if tc.jobs == 1 {
				a := New(record.Adapt(sink), Options{})
				openConns(a, n)
				a.Finish()
			} else {
				p := NewParallel(record.Adapt(sink), Options{}, tc.jobs)
				openConns(p, n)
				p.Finish()
			}
			if sink.ends != n {
				t.Fatalf("%d connections ended", sink.ends)
			}
			per := float64(sink.end-sink.start) / (n - n/2)
			t.Logf("%.0f bytes allocated per ended connection", per)
			if per > tc.max {
				t.Errorf("%.0f bytes allocated per ended connection, want %.0f at most", per, tc.max)
			}
		})
	}
}

// TestFinishEmptyBytes: connections that only sent a SYN, still open at
// the end of the input, end with a summary of their connect
// (wsparse.Config.EndAll: `conns`); with two workers the merger hands each
// on in its chunk's Summary (emptyEnd.summary), not one made for each: 576
// bytes a connection before, on top of the stream's own (stream.go).
func TestFinishEmptyBytes(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations under -race: sync.Pool drops items at random")
	}
	const n = 6000
	sink := &allocSink{from: n / 2, to: n}
	p := NewParallel(record.Adapt(sink), Options{Decoder: wsparse.Config{EndAll: true}}, 2)
	ts := synth.Start
	for i := range n {
		client := [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		p.Packet(101, synth.RawTCP4(client, [4]byte{192, 0, 2, 2}, uint16(1024+i%60000), 80, 1000, 0, flagSYN, nil), ts, 40)
		ts = ts.Add(time.Microsecond)
	}
	p.Finish()
	if sink.ends != n {
		t.Fatalf("%d connections ended", sink.ends)
	}
	per := float64(sink.end-sink.start) / (n - n/2)
	t.Logf("%.0f bytes allocated per ended connection", per)
	if per > 900 {
		t.Errorf("%.0f bytes allocated per ended connection, want 900 at most", per)
	}
}

// hsSink logs each Handshake record, and each End with the handshake its
// summary reports, the same way.
type hsSink struct {
	logSink
	sent map[int]string // by connection: its Handshake record's
}

func hsText(h *wsparse.Handshake) string {
	return fmt.Sprintf("%s %d at %s", h.URI, h.Status, h.RequestTS.Format(time.StampMicro))
}

func (l *hsSink) Put(r *record.Record) {
	switch {
	case r.Kind == record.Handshake:
		l.sent[r.Conn.ID] = hsText(r.Handshake)
	case r.Kind == record.End && r.Summary.Handshake != nil:
		l.add(r.Conn, "end %v handshake %s (sent %s)", r.Summary.End, hsText(r.Summary.Handshake), l.sent[r.Conn.ID])
	case r.Kind == record.End:
		l.add(r.Conn, "end %v no handshake", r.Summary.End)
	}
}

// TestHeldEndsKeepTheirHandshakes: connections ended together in a flush
// (idle past --idle-timeout) have their records held until all are ended,
// and each End's summary keeps its own handshake, with -j 1, 2 and 3: the
// decoder reuses the Summary and the Handshake it rebuilt once End
// returns, so what is held or copied into a worker's chunk is a copy.
func TestHeldEndsKeepTheirHandshakes(t *testing.T) {
	var pkts []synth.Packet
	const n = 4
	for i := range n {
		c := synth.New(fmt.Sprintf("10.0.0.1:%d", 40000+i), "192.0.2.2:80").At(time.Duration(i) * time.Millisecond).Open().UpgradeURI(fmt.Sprintf("/c%d", i))
		pkts = append(pkts, c.Packets...)
	}
	late := synth.New("10.0.0.1:50000", "192.0.2.2:80").At(10 * time.Second).Open().Upgrade()
	pkts = append(pkts, late.Packets...)
	for _, jobs := range []int{1, 2, 3} {
		l := &hsSink{sent: map[int]string{}}
		decodeAll(l, pkts, Options{IdleTimeout: 3 * time.Second}, jobs)
		if len(l.lines) != n+1 {
			t.Fatalf("-j %d: %d ends, want %d:\n%s", jobs, len(l.lines), n+1, strings.Join(l.lines, "\n"))
		}
		for i, line := range l.lines[:n] {
			want := fmt.Sprintf("10.0.0.1:%d->192.0.2.2:80 end open handshake /c%d 101 at ", 40000+i, i)
			if !strings.Contains(line, want) || !strings.HasSuffix(line, "(sent "+line[strings.Index(line, "/c"):strings.Index(line, " (sent")]+")") {
				t.Errorf("-j %d: %s\nwant %s..., as sent", jobs, line, want)
			}
		}
	}
}
