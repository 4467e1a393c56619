package tlsdec

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzConn feeds arbitrary bytes as a two-sided TLS stream: each chunk is
// introduced by one byte whose low bit picks the side and whose other bits
// give the chunk length. Seeds are the RFC 8448 trace and synthetic
// sessions of each suite, encoded the same way, with their keys in play.
func FuzzConn(f *testing.F) {
	f.Add(encodeEvents(r8448Session()))
	for _, tc := range sessionCases {
		s := newSession(tc.id, tc.etm)
		s.build([]int{0, 30, 200})
		f.Add(encodeEvents(s.evs))
	}
	keys := r8448Keys()
	for _, tc := range sessionCases {
		s := newSession(tc.id, tc.etm)
		keys.Merge(s.keys())
	}
	// TLS 1.2 renegotiations: full, abbreviated, by ticket unlogged, and a
	// forged ClientHello (reneg_test.go).
	for _, tc := range sessionCases[3:6] {
		s, _ := renegSession(tc.id, tc.etm, renegOpts{}, renegOpts{abbreviated: true}, renegOpts{},
			renegOpts{abbreviated: true, ticket: true, unlogged: true})
		f.Add(encodeEvents(s.evs))
		keys.Merge(s.keys())
	}
	// One side's renegotiation records after all of the other's, as
	// behind a hole (renegwait.go).
	for late := range 2 {
		s, _ := renegSession(0xc02f, false, renegOpts{}, renegOpts{abbreviated: true})
		var first, last []event
		for i, ev := range s.evs {
			if i >= 11 && ev.side == late { // (11: the handshake and the data before the first renegotiation)
				last = append(last, ev)
			} else {
				first = append(first, ev)
			}
		}
		f.Add(encodeEvents(append(first, last...)))
		keys.Merge(s.keys())
	}
	forged := newSession(0xc02f, false)
	forged.exchange([]int{40}, forged.handshake())
	forged.sealed(0, typeHandshake, hsMsg(hsClientHello, []byte{3, 3, 0xff}), 0)
	forged.sealed(0, typeChangeCipherSpec, []byte{1}, 0)
	f.Add(encodeEvents(forged.evs))
	// A connection that ended inside a record: its bytes count
	// (TestEndCountsEverySide).
	ended := newSession(0x1301, false)
	ended.build([]int{40})
	last := ended.evs[len(ended.evs)-1]
	ended.evs[len(ended.evs)-1] = event{last.side, last.data[:len(last.data)-5]}
	f.Add(encodeEvents(ended.evs))
	// Each side's first bytes lost, the loss ending inside a record (its
	// hello's flight over several segments): a leading 0xfd (findrec.go).
	cut := newSession(0x1301, false)
	cut.exchange([]int{40, 3000}, cut.handshake())
	var cutEvs []event
	var cutSeen [2]bool
	for _, ev := range cut.evs {
		if !cutSeen[ev.side] {
			cutSeen[ev.side] = true
			ev = event{ev.side, ev.data[min(7, len(ev.data)-1):]}
		}
		cutEvs = append(cutEvs, ev)
	}
	f.Add(append([]byte{0xfd}, encodeEvents(cutEvs)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		var wire, told, fed [2]int // bytes in (fed and lost); plaintext out and told lost; bytes fed
		c := NewConn(keys, func(side int, p []byte, ts time.Time) {
			if side < 0 || side > 1 || len(p) > MaxRecord {
				t.Fatalf("out(%d, %d bytes)", side, len(p))
			}
			told[side] += len(p)
		})
		c.OnLost(func(side, n int, _ bool, ts time.Time) {
			if side < 0 || side > 1 || n <= 0 {
				t.Fatalf("lost(%d, %d)", side, n)
			}
			told[side] += n
		})
		if len(data) > 0 && data[0] == 0xfd { // both sides' first bytes lost
			c.Gap(0, 100, time.Time{})
			c.Gap(1, 100, time.Time{})
			wire[0], wire[1] = 100, 100
			data = data[1:]
		}
		for len(data) > 0 {
			ctl := data[0]
			n := min(int(ctl>>1)*16+1, len(data)-1)
			c.Feed(int(ctl&1), data[1:1+n], time.Time{})
			wire[ctl&1] += n
			fed[ctl&1] += n
			data = data[1+n:]
			if ctl >= 0xfe { // a gap inside a record, or past it
				c.Gap(int(ctl&1), 10, time.Time{})
				wire[ctl&1] += 10
			}
		}
		c.End(time.Time{}) // (a side still searching for its records after a gap)
		in := c.Info()
		if in.Decrypted && in.Error != "" {
			t.Fatalf("decrypted with an error: %+v", in)
		}
		for side := range 2 {
			// Every byte fed is counted, a last record cut by the end
			// included; lost bytes only inside a record.
			if told[side] > wire[side] || in.Bytes[side] > int64(wire[side]) || in.Bytes[side] < int64(fed[side]) || in.Skipped[side] > in.Bytes[side] {
				t.Fatalf("side %d: %d bytes in (%d fed), %d plaintext out and lost, %d TLS bytes", side, wire[side], fed[side], told[side], in.Bytes[side])
			}
		}
	})
}

// encodeEvents writes events in FuzzConn's framing.
func encodeEvents(evs []event) []byte {
	var b []byte
	for _, ev := range evs {
		d := ev.data
		for len(d) > 0 {
			n := min(len(d), 126*16+1)
			k := (n - 1) / 16
			n = k*16 + 1
			b = append(b, byte(k<<1|ev.side))
			b = append(b, d[:n]...)
			d = d[n:]
		}
	}
	return b
}

// FuzzKeyLog: any input parses without panic, and every entry kept has
// secrets of the lengths the format allows.
func FuzzKeyLog(f *testing.F) {
	f.Add([]byte("# comment\nCLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("11", 48) + "\n"))
	f.Add([]byte(r8448Keys().String()))
	for _, tc := range sessionCases[:4] {
		f.Add([]byte(newSession(tc.id, tc.etm).keyLog()))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKeyLog(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for i := range k.n {
			e := k.rec(i)
			if e.label == labelMaster && e.n != 48 || e.n != 32 && e.n != 48 {
				t.Fatalf("%s of %d bytes", labelNames[e.label], e.n)
			}
		}
	})
}

// FuzzDetect: the stream detectors read at most what they are given and
// agree with the record layer: a stream they take for TLS opens with a
// record header that Feed accepts.
func FuzzDetect(f *testing.F) {
	f.Add(r8448ClientHello)
	f.Add([]byte{0x17, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb, 0x17, 0x03, 0x03, 0x00, 0x01, 0})
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		hello, mid := Detect(b), DetectMidSession(b)
		if !hello && !mid {
			return
		}
		c := NewConn(nil, nil)
		c.Feed(0, b[:5], time.Time{})
		if in := c.Info(); strings.Contains(in.Error, "not a TLS record") || strings.Contains(in.Error, "more than") {
			t.Fatalf("Detect %v, DetectMidSession %v, but %s", hello, mid, in.Error)
		}
	})
}
