package tlsdec

import (
	"testing"
	"time"
)

// TestEndCountsEverySide: a connection that ends (its FIN, or the capture's
// end) inside a record of either side counts every byte each side sent in
// its TLS bytes: a side decrypted or only counted, read from its start or
// found again after a loss, its last record cut in its header or its body,
// or cut by a gap before. Until now only a side found again by a chain of
// headers (TestEndCountsRecordCut) counted that last record; any other left
// it counted nowhere: a ClientHello of 74 bytes whose last 5 the capture's
// end cut gave client_bytes 0 of 69 sent (arkime_synthetic's connection 32).
func TestEndCountsEverySide(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   uint16
		keys bool
	}{
		{"tls13-keys", 0x1301, true},
		{"tls13-nokeys", 0x1301, false},
		{"tls12-gcm-keys", 0xc02f, true},
		{"tls12-cbc-keys", 0xc013, true},
		{"tls12-cbc-nokeys", 0xc013, false},
	} {
		s := newSession(tc.id, false)
		s.build([]int{10, 3000, 40})
		var keys *KeyLog
		if tc.keys {
			keys = s.keys()
		}
		// Every record boundary, and inside each record: its header's
		// first byte and 4 bytes, its whole header, its body's first byte
		// and its middle; the whole event stream before it fed.
		for i, ev := range s.evs {
			for _, at := range []int{0, 1, 4, 5, 6, len(ev.data) / 2, len(ev.data) - 1} {
				if at >= len(ev.data) {
					continue
				}
				var fed [2]int64
				c := NewConn(keys, func(int, []byte, time.Time) {})
				for _, e := range s.evs[:i] {
					c.Feed(e.side, e.data, time.Time{})
					fed[e.side] += int64(len(e.data))
				}
				c.Feed(ev.side, ev.data[:at], time.Time{})
				fed[ev.side] += int64(at)
				c.End(time.Time{})
				if got := c.Info().Bytes; got != fed {
					t.Errorf("%s: ended %d bytes into record %d (side %d, %d bytes): TLS bytes %v, want the %v sent", tc.name, at, i, ev.side, len(ev.data), got, fed)
				}
			}
		}
	}
}

// TestEndCountsCutRecord: a record a gap cut (within its body: decryption
// goes on with the next) that the end cuts too counts its bytes, the lost
// ones with them, as it does when whole (without keys the gap starts a
// search for the next record: the bytes after it count, as searched); and a side whose first bytes were
// lost, read from its next record (no chain search: the loss ended at a
// record's end), counts the record the end cut.
func TestEndCountsCutRecord(t *testing.T) {
	s := newSession(0x1301, false)
	s.build([]int{10, 3000, 40})
	at := -1
	for i, ev := range s.evs {
		if ev.side == 0 && len(ev.data) > 3000 {
			at = i
		}
	}
	for _, keys := range []*KeyLog{s.keys(), nil} {
		for _, end := range []int{1500, 2000, len(s.evs[at].data) - 1} {
			c := NewConn(keys, func(int, []byte, time.Time) {})
			var fed [2]int64
			for _, e := range s.evs[:at] {
				c.Feed(e.side, e.data, time.Time{})
				fed[e.side] += int64(len(e.data))
			}
			d := s.evs[at].data
			c.Feed(0, d[:1000], time.Time{})
			c.Gap(0, 100, time.Time{})
			c.Feed(0, d[1100:end], time.Time{})
			c.End(time.Time{})
			fed[0] += int64(end) - 100
			if keys != nil {
				fed[0] += 100 // (lost inside the record it decrypts around: counted with it)
			}
			if got := c.Info().Bytes; got != fed {
				t.Errorf("keys %v, ended at %d: TLS bytes %v, want %v", keys != nil, end, got, fed)
			}
		}
	}
	// The first 300 bytes of the client lost, its records read from the
	// next one; the end cuts its third.
	var side0 []byte
	for _, e := range s.evs {
		if e.side == 0 {
			side0 = append(side0, e.data...)
		}
	}
	first := int(side0[3])<<8 | int(side0[4]) + 5 // the ClientHello record
	for _, cut := range []int{3, 5, 20} {
		c := NewConn(nil, func(int, []byte, time.Time) {})
		c.Gap(0, first, time.Time{})
		rest := side0[first:]
		n := 0
		for k := 0; k < 2; k++ { // two whole records
			n += 5 + (int(rest[n+3])<<8 | int(rest[n+4]))
		}
		c.Feed(0, rest[:n+cut], time.Time{})
		c.End(time.Time{})
		in := c.Info()
		if in.Bytes[0] != int64(n+cut) || in.Skipped[0] != 0 {
			t.Errorf("hello lost, end %d bytes into the third record: TLS bytes %d (skipped %d), want %d", cut, in.Bytes[0], in.Skipped[0], n+cut)
		}
	}
}
