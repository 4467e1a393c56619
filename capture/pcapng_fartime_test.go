package capture

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// TestPcapngFarTimes: a 64-bit timestamp and an if_tsoffset of ±2^63 s
// reach past what time.Time keeps straight: before, a sum past 2^63 s
// wrapped (2^64-1 s plus 2^63-1 came out in 292277026596, the next second
// before year 1), and a time before year 1 is earlier than the zero time
// that stands for none (a connection stamped there lost every message).
// Times are taken within years 1 to 9999; those within are as before.
func TestPcapngFarTimes(t *testing.T) {
	le := binary.LittleEndian
	far := time.Date(2300, 1, 2, 3, 4, 5, 0, time.UTC)
	lo, hi := time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		resol byte
		off   int64
		ts    uint64
		want  time.Time
	}{
		{"seconds, 2^64-1, offset 2^63-1", 0, math.MaxInt64, math.MaxUint64, hi},
		{"seconds, 2^64-1, no offset", 0, 0, math.MaxUint64, hi},
		{"seconds, 2^63+5, offset -2^63", 0, math.MinInt64, 1<<63 + 5, time.Unix(5, 0)},
		{"seconds, 2^64-1, offset -2^63", 0, math.MinInt64, math.MaxUint64, hi},
		{"seconds, 0, offset -2^63", 0, math.MinInt64, 0, lo},
		{"microseconds, 2024 with offset -7e10 (year -190)", 6, -7e10, 1_700_000_000_000_000, lo},
		{"microseconds, 2024 with offset -6.3e10 (year 26)", 6, -6.3e10, 1_700_000_000_000_123, time.Unix(1_700_000_000-6.3e10, 123000)},
		{"seconds, 1e18, offset 2^62 (past 9999)", 0, 1 << 62, 1e18, hi},
		{"nanoseconds, 2300 (past 2^63 ns)", 9, 0, uint64(far.Unix())*1e9 + 6, far.Add(6)},
		{"microseconds, 2024", 6, 0, 1_700_000_000_000_004, time.Unix(1_700_000_000, 4000)},
		{"microseconds, 2024, offset 1000", 6, 1000, 1_700_000_000_000_004, time.Unix(1_700_001_000, 4000)},
	} {
		f := &ngFile{}
		f.shb(le).idb(1, 0, f.opt(optTSResol, []byte{tc.resol}), f.opt(optTSOffset, le.AppendUint64(nil, uint64(tc.off)))).epb(rec{ts: tc.ts, data: []byte{1}})
		pkts := mustRead(t, f.b)
		if got := pkts[0].Timestamp; !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
