package tlsdec

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// gapCase is a client stream with the bytes [from, to) of its records
// never captured, and what should come of it.
type gapRecord struct {
	ev       int    // index in s.evs
	off, end int    // in the client's byte stream
	app      []byte // application data it carries (nil: none)
	body     int    // plaintext and padding: the body less the overhead
}

// clientRecords lists the client's records with their stream offsets and
// plaintext, from a run with nothing lost.
func clientRecords(t *testing.T, s *session) []gapRecord {
	var out []byte
	c := NewConn(s.keys(), func(side int, p []byte, ts time.Time) {
		if side == 0 {
			out = append(out, p...)
		}
	})
	var recs []gapRecord
	off := 0
	for i, ev := range s.evs {
		if ev.side != 0 {
			c.Feed(ev.side, ev.data, time.Time{})
			continue
		}
		n := len(out)
		c.Feed(0, ev.data, time.Time{})
		r := gapRecord{ev: i, off: off, end: off + len(ev.data)}
		if len(out) > n {
			r.app = append([]byte(nil), out[n:]...)
		}
		if d := &c.dir[0]; d.cipher != nil && d.cipher.overhead() > 0 {
			r.body = len(ev.data) - 5 - d.cipher.overhead()
		}
		recs = append(recs, r)
		off = r.end
	}
	if c.Info().Error != "" {
		t.Fatalf("reference run: %s", c.Info().Error)
	}
	return recs
}

// feedCut feeds s.evs with the client's bytes [from, to) lost, then ends;
// unsure: a count told to OnLost was an upper bound.
func feedCut(s *session, from, to int) (out []byte, lost int, unsure bool, in Info) {
	c := NewConn(s.keys(), func(side int, p []byte, ts time.Time) {
		if side == 0 {
			out = append(out, p...)
		}
	})
	c.OnLost(func(side, n int, exact bool, ts time.Time) { lost, unsure = lost+n, unsure || !exact })
	off := 0
	for _, ev := range s.evs {
		if ev.side != 0 {
			c.Feed(ev.side, ev.data, time.Time{})
			continue
		}
		b, start := ev.data, off
		off += len(b)
		if off <= from || start >= to {
			c.Feed(0, b, time.Time{})
			continue
		}
		if start < from {
			c.Feed(0, b[:from-start], time.Time{})
		}
		if start <= from {
			c.Gap(0, to-from, time.Time{})
		}
		if off > to {
			c.Feed(0, b[len(b)-(off-to):], time.Time{})
		}
	}
	c.End(time.Time{})
	return out, lost, unsure, c.Info()
}

// TestGapResync: bytes lost across a record boundary cost the records they
// touched, not the rest of the side: the next record is found by its header
// and its sequence number by trying the next ones (resync.go). Until
// session 36 the side ended at such a gap, its later bytes only counted.
// Every cut from every record's start, middle and end to a later record's,
// on every suite: the AEAD suites decrypt every record not touched and tell
// OnLost the plaintext (and TLS 1.3 padding) of those touched; CBC suites,
// and cuts over a KeyUpdate, end the side as before, every byte from the cut
// record on told as lost.
func TestGapResync(t *testing.T) {
	sizes := []int{10, 5000, 30, 7, 1, 300, 2, 64, 1000, 5, 9}
	for _, tc := range sessionCases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(tc.id, tc.etm)
			s.build(sizes)
			recs := clientRecords(t, s)
			first := 0 // the first application data record
			for recs[first].app == nil {
				first++
			}
			total := recs[len(recs)-1].end
			resumed := 0
			for a := first; a < len(recs)-1; a++ {
				for b := a + 1; b < len(recs)-1 && b <= a+4; b++ {
					ra, rb := recs[a], recs[b]
					for _, cut := range [][2]int{{ra.off, rb.off}, {ra.off + 2, rb.off + 3}, {ra.end - 1, rb.off + 6}, {ra.off + 7, rb.end - 1}, {ra.off + 7, rb.end}} {
						from, to := cut[0], cut[1]
						if to <= from || to-from < 2 && ra.end == rb.off {
							continue
						}
						var want []byte
						wantLost, ends, touched := 0, false, 0
						for i, r := range recs {
							switch {
							case r.end <= from:
								want = append(want, r.app...)
							case r.off >= to && !ends:
								want = append(want, r.app...)
							case r.off < to:
								touched++
								wantLost += r.body
								if r.app == nil && i != len(recs)-1 || r.body < 0 {
									ends = true
								}
							}
						}
						if s.s.bulk == bulkCBC {
							ends = true
						}
						out, lost, unsure, in := feedCut(s, from, to)
						// TLS 1.3's count after a resync is an upper bound (the
						// padding of the records lost is not known): the
						// WebSocket decoder searches for its framing then.
						if tls13 := tc.id>>8 == 0x13; unsure != (tls13 && !ends) {
							t.Fatalf("cut [%d,%d) (ends %v): count told unsure %v", from, to, ends, unsure)
						}
						if ends {
							start := 0
							for _, r := range recs {
								if r.end > from {
									start = r.off
									break
								}
							}
							want = want[:0]
							for _, r := range recs {
								if r.end <= from {
									want = append(want, r.app...)
								}
							}
							wantLost = total - start
							if touched == 1 && s.s.bulk == bulkCBC {
								continue // inside one record: TestGapInRecord
							}
						} else {
							resumed++
						}
						if !bytes.Equal(out, want) || lost != wantLost || in.Decrypted {
							t.Fatalf("cut [%d,%d) of %d (records %d-%d, ends %v): out %d of %d, lost %d want %d, %s",
								from, to, total, a, b, ends, len(out), len(want), lost, wantLost, in.Error)
						}
						// Stopped partway: something decrypted (either side's), then a side given up.
						if stopped := ends && in.AppBytes[0]+in.AppBytes[1] > 0; in.Stopped != stopped {
							t.Fatalf("cut [%d,%d) (ends %v, %d bytes out): Stopped %v, want %v (%s)", from, to, ends, len(out), in.Stopped, stopped, in.Error)
						}
						if !ends && (!strings.Contains(in.Error, "decryption goes on") || in.Bytes[0] != int64(total-(to-from))) {
							t.Fatalf("cut [%d,%d): TLS bytes %d of %d, error %q", from, to, in.Bytes[0], total-(to-from), in.Error)
						}
					}
				}
			}
			if s.s.bulk != bulkCBC && resumed < 20 {
				t.Errorf("only %d cuts resumed", resumed)
			}
		})
	}
}

// TestCutPaddedRecord: a TLS 1.3 record of 1000 bytes padded with 300,
// cut by lost bytes, loses 1000 bytes of plaintext, read from its captured
// tail (tail.go), where until session 36 its padding counted too (1300);
// when the content type was lost with the cut, an upper bound, said.
func TestCutPaddedRecord(t *testing.T) {
	for _, id := range []uint16{0x1301, 0x1302, 0x1303} {
		s := newSession(id, false)
		sent := s.build([]int{10})
		s.sealed(0, typeApplicationData, appData(0, 5, 1000), 300)
		after := appData(0, 6, 20)
		s.sealed(0, typeApplicationData, after, 0)
		at := len(s.evs) - 2
		rec := s.evs[at].data // 5 + 1000 + 1 + 300 + 16 bytes
		for _, cut := range [][2]int{{5, 6}, {100, 900}, {5, 1005}, {500, 1006}, {200, 1200}, {5, len(rec) - 16}, {7, len(rec) - 1}} {
			var out []byte
			lost := 0
			c := NewConn(s.keys(), func(side int, p []byte, ts time.Time) {
				if side == 0 {
					out = append(out, p...)
				}
			})
			unsure := false
			c.OnLost(func(side, n int, exact bool, ts time.Time) { lost, unsure = lost+n, unsure || !exact })
			for i, ev := range s.evs {
				if i == at {
					c.Feed(0, ev.data[:cut[0]], time.Time{})
					c.Gap(0, cut[1]-cut[0], time.Time{})
					c.Feed(0, ev.data[cut[1]:], time.Time{})
					continue
				}
				c.Feed(ev.side, ev.data, time.Time{})
			}
			want, bound := 1000, false
			if end := cut[1] - 5; end > 1000 { // the content type byte lost
				want, bound = min(end-1, 1300), true
			}
			in := c.Info()
			if !bytes.Equal(out, append(append([]byte{}, sent[0]...), after...)) || lost != want || bound != strings.Contains(in.Error, "at most") || unsure != bound {
				t.Errorf("%#x cut %v: out %d, lost %d want %d, %s", id, cut, len(out), lost, want, in.Error)
			}
		}
	}
}

// TestResyncBounds: after a gap, record-looking bytes that no key opens
// end the search once maxResyncTries opens failed, not at the
// connection's end (each candidate could try every sequence number the
// bytes lost may hold); and a second gap during the search counts the
// bytes between the two as lost too.
func TestResyncBounds(t *testing.T) {
	for _, id := range []uint16{0x1301, 0xc02f} {
		s := newSession(id, false)
		sent := s.build([]int{10})
		s.evs, s.seq[0] = s.evs[:len(s.evs)-1], s.seq[0]-1 // (the close_notify)
		n := len(s.evs)
		var recs [][]byte
		var plain []byte
		for i := range 5 {
			p := appData(0, 20+i, 100)
			plain = append(plain, p...)
			s.sealed(0, typeApplicationData, p, 0)
			recs = append(recs, s.evs[len(s.evs)-1].data)
		}
		run := func(feed func(c *Conn)) (out []byte, lost int, c *Conn) {
			c = NewConn(s.keys(), func(side int, p []byte, ts time.Time) {
				if side == 0 {
					out = append(out, p...)
				}
			})
			c.OnLost(func(side, n int, _ bool, ts time.Time) { lost += n })
			for _, ev := range s.evs[:n] {
				c.Feed(ev.side, ev.data, time.Time{})
			}
			feed(c)
			return out, lost, c
		}

		// 300 forged records after a gap of 4096 bytes.
		var junk []byte
		for i := range 300 {
			junk = append(junk, typeApplicationData, 3, 3, 0, 40)
			junk = append(junk, appData(1, i, 40)...)
		}
		_, lost, c := run(func(c *Conn) {
			c.Gap(0, 4096, time.Time{})
			c.Feed(0, junk, time.Time{})
		})
		if in := c.Info(); !strings.Contains(in.Error, "TLS records not followed past them") || lost != 4096+len(junk) || c.dir[0].resync.on {
			t.Errorf("%#x forged records: lost %d want %d, searching %v, %s", id, lost, 4096+len(junk), c.dir[0].resync.on, in.Error)
		}

		// recs[1] cut at 50 bytes, a gap to 20 bytes into recs[2], 30
		// bytes captured, a gap to 10 bytes into recs[3]: recs[4] is found.
		out, lost, c := run(func(c *Conn) {
			c.Feed(0, recs[0], time.Time{})
			c.Feed(0, recs[1][:50], time.Time{})
			c.Gap(0, len(recs[1])-50+20, time.Time{})
			c.Feed(0, recs[2][20:50], time.Time{})
			c.Gap(0, len(recs[2])-50+10, time.Time{})
			c.Feed(0, recs[3][10:], time.Time{})
			c.Feed(0, recs[4], time.Time{})
		})
		want := append(append(append([]byte{}, sent[0]...), plain[:100]...), plain[400:]...)
		if in := c.Info(); !bytes.Equal(out, want) || lost != 300 || !strings.Contains(in.Error, "records lost: 3 (300 bytes of plaintext") {
			t.Errorf("%#x two gaps: out %d of %d, lost %d want 300, %s", id, len(out), len(want), lost, in.Error)
		}
		if r := &c.dir[0].resync; r.buf != nil || r.copy_ != nil {
			t.Errorf("%#x: the search's buffers kept after it: %d + %d bytes", id, cap(r.buf), cap(r.copy_))
		}
	}
}
