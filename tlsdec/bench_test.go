package tlsdec

import (
	"testing"
	"time"
)

// BenchmarkDecrypt measures application data throughput of an established
// connection: full 16 KiB records, fed in 1460-byte chunks as TCP would.
func BenchmarkDecrypt(b *testing.B) {
	for _, tc := range sessionCases {
		if tc.etm {
			continue
		}
		b.Run(tc.name, func(b *testing.B) {
			s := newSession(tc.id, false)
			s.build(nil)
			c := NewConn(s.keys(), func(int, []byte, time.Time) {})
			for _, ev := range s.evs {
				c.Feed(ev.side, ev.data, time.Time{})
			}
			const n = 64
			var stream []byte
			for i := 0; i < n; i++ {
				stream = append(stream, s.w[0].seal(typeApplicationData, appData(0, i, 1<<14), s.seq[0], 0)...)
				s.seq[0]++
			}
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for p := stream; len(p) > 0; {
					k := min(1460, len(p))
					c.Feed(0, p[:k], time.Time{})
					p = p[k:]
				}
				// A fresh connection per pass would cost a handshake;
				// rewind the sequence number to replay the records instead.
				c.dir[0].seq -= n
			}
			if !c.Info().Decrypted {
				b.Fatal(c.Info().Error)
			}
		})
	}
}

// BenchmarkResyncWorst measures the costliest search after a gap past a
// record's end (resync.go): the next record, of 16 KiB, has the 128th
// sequence number tried, so 127 opens fail before it.
func BenchmarkResyncWorst(b *testing.B) {
	s := newSession(0x1301, false)
	s.build(nil)
	c := NewConn(s.keys(), func(int, []byte, time.Time) {})
	for _, ev := range s.evs {
		c.Feed(ev.side, ev.data, time.Time{})
	}
	base := s.seq[0]
	rec := s.w[0].seal(typeApplicationData, appData(0, 1, 1<<14), base+maxResyncTries, 0)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.dir[0].seq = base
		c.Gap(0, 1<<20, time.Time{})
		c.Feed(0, rec, time.Time{})
		if c.dir[0].seq != base+maxResyncTries+1 {
			b.Fatalf("not found again: %s", c.Info().Error)
		}
	}
}
