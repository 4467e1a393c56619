package pipeline

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/wsdump/wsdump/reassembly"
)

// FuzzClockWatch: any sequence of packet times, near and far (each 9
// bytes: a scale and a signed step, or an absolute time within years 1
// to 9999 as pcapng gives them), never panics, keeps at most
// MaxClockJumps jumps and MaxClockRuns runs, in reading order, each of
// packets within the input, none counting more than were read, and
// judges an open connection's end to one of the runs' ends or the last
// packet's time.
func FuzzClockWatch(f *testing.F) {
	f.Add([]byte{})
	f.Add(binary.BigEndian.AppendUint64([]byte{0}, 1<<40))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		const lo, hi = -62135596800 + 1, 253402300799
		var w clockWatch
		ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		var n int64
		for ; len(b) >= 9; b = b[9:] {
			v := int64(binary.BigEndian.Uint64(b[1:]))
			switch b[0] % 4 {
			case 0: // a step of nanoseconds
				ts = ts.Add(time.Duration(v))
			case 1: // of seconds, as small as the watch's bounds
				ts = ts.Add(time.Duration(v%7200) * time.Second)
			case 2: // an absolute time, years 1 to 9999
				s := v % (hi - lo)
				if s < 0 {
					s += hi - lo
				}
				ts = time.Unix(lo+s, 0).UTC()
			case 3: // the same time again
			}
			if ts.Year() < 1 || ts.Year() > 9999 {
				ts = time.Unix(hi, 0).UTC()
			}
			w.packet(ts)
			n++
		}
		c := w.clock()
		if len(c.Jumps) > reassembly.MaxClockJumps || len(c.Runs) > reassembly.MaxClockRuns {
			t.Fatalf("%d jumps, %d runs", len(c.Jumps), len(c.Runs))
		}
		var sum int64
		for i, r := range c.Runs {
			if r.From < 1 || r.Last > n || r.From > r.Last || r.Packets < 1 || r.Packets > r.Last-r.From+1 || r.Lo.After(r.Hi) {
				t.Fatalf("run %d of %d packets: %+v", i, n, r)
			}
			if i > 0 && r.From <= c.Runs[i-1].From {
				t.Fatalf("runs out of order: %+v", c.Runs)
			}
			sum += r.Packets
		}
		if sum > n {
			t.Fatalf("runs count %d packets of %d", sum, n)
		}
		if n == 0 {
			return
		}
		end := clockEnd(&c, ts)
		ok := end.Equal(c.Last)
		for _, r := range c.Runs {
			ok = ok || end.Equal(r.End)
		}
		if !ok {
			t.Fatalf("judged to %v: no run's end nor the last packet's", end)
		}
	})
}
