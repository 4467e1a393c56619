package tlsdec

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Hostile streams: the cost of each must stay linear in its bytes, with a
// small constant, and the memory a Conn holds bounded, whatever the peer
// sends. Costs are measured by allocations, which track the key schedules
// and parses done, rather than by wall-clock time.

// records wraps msg into records of type typ of at most 2^14 bytes.
func records(typ uint8, msg []byte) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(len(msg), 1<<14)
		out = append(out, typ, 3, 3, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

// repeatHs is as many copies of msg as fit in one record's body.
func repeatHs(msg []byte) []byte {
	return bytes.Repeat(msg, (1<<14)/len(msg))
}

// TestRepeatedServerHello: ServerHellos after the first are ignored. Each
// used to redo the TLS 1.2 key block (PRF, two cipher setups: 19 to 31
// allocations) from 59 bytes of input, and to replace the keys with ones
// from its own random.
func TestRepeatedServerHello(t *testing.T) {
	for _, id := range []uint16{0xc02f, 0xc013, 0x1301} {
		s := newSession(id, false)
		sent := s.build([]int{10, 300})
		other := *s
		other.sr[0] ^= 0xff
		rec := records(typeHandshake, repeatHs(other.serverHello()))

		// The session decrypts with the first ServerHello's keys.
		i := 2 // after the ClientHello and the server's first record
		if s.tls13 {
			i = 3 // after the server's ChangeCipherSpec: the next records are encrypted
		}
		evs := append(append(append([]event{}, s.evs[:i]...), event{1, rec}), s.evs[i:]...)
		got := runSession(t, s.keys(), evs, nil)
		if !s.tls13 && (!bytes.Equal(got.out[0], sent[0]) || !bytes.Equal(got.out[1], sent[1]) || !got.info.Decrypted) {
			t.Errorf("%s: %d/%d bytes of %d/%d, %+v", s.s.name, len(got.out[0]), len(got.out[1]), len(sent[0]), len(sent[1]), got.info)
		}

		// A record full of them costs no allocation: no parse, no key schedule.
		c := NewConn(s.keys(), nil)
		for _, ev := range s.evs[:2] {
			c.Feed(ev.side, ev.data, time.Time{})
		}
		allocs := testing.AllocsPerRun(20, func() { c.Feed(1, rec, time.Time{}) })
		if allocs != 0 {
			t.Errorf("%s: %.0f allocations for a record of %d ServerHellos", s.s.name, allocs, len(rec)/len(other.serverHello()))
		}
	}
}

// TestSecondHelloRetryRequest: a client aborts on a second
// HelloRetryRequest (RFC 8446 §4.1.4); the connection is not decrypted.
func TestSecondHelloRetryRequest(t *testing.T) {
	s := newSession(0x1301, false)
	s.build([]int{42})
	hrr := newSession(0x1301, false)
	hrr.sr = helloRetryRandom
	rec := records(typeHandshake, hrr.serverHello())
	evs := append([]event{s.evs[0], {1, rec}, {1, rec}}, s.evs[1:]...)
	got := runSession(t, s.keys(), evs, nil)
	if got.info.Decrypted || got.info.Error != "second HelloRetryRequest" || len(got.out[0])+len(got.out[1]) != 0 {
		t.Errorf("%+v", got.info)
	}
}

// TestRepeatedClientHello: only the first ClientHello counts (a second one,
// after a HelloRetryRequest, keeps the random); others are not parsed.
func TestRepeatedClientHello(t *testing.T) {
	s := newSession(0xc02f, false)
	sent := s.build([]int{10, 300})
	other := *s
	other.cr[0] ^= 0xff
	rec := records(typeHandshake, repeatHs(other.clientHello()))
	evs := append([]event{s.evs[0], {0, rec}}, s.evs[1:]...)
	got := runSession(t, s.keys(), evs, nil)
	if !bytes.Equal(got.out[0], sent[0]) || !bytes.Equal(got.out[1], sent[1]) || !got.info.Decrypted {
		t.Errorf("%d/%d bytes of %d/%d, %+v", len(got.out[0]), len(got.out[1]), len(sent[0]), len(sent[1]), got.info)
	}

	c := NewConn(s.keys(), nil)
	c.Feed(0, s.evs[0].data, time.Time{})
	allocs := testing.AllocsPerRun(20, func() { c.Feed(0, rec, time.Time{}) })
	if allocs != 0 {
		t.Errorf("%.0f allocations for a record of %d ClientHellos", allocs, len(rec)/len(other.clientHello()))
	}
}

// keyUpdates returns n records of side 1 of an established TLS 1.3
// session, each a KeyUpdate, with appData bytes of application data after
// each (none if 0).
func keyUpdates(s *session, n, appData int) (recs [][]byte, sent []byte) {
	for i := 0; i < n; i++ {
		r := s.w[1].seal(typeHandshake, hsMsg(hsKeyUpdate, []byte{0}), s.seq[1], 0)
		s.app[1] = nextSecret13(s.s, s.app[1])
		s.set13(1, s.app[1])
		recs = append(recs, r)
		if appData > 0 {
			p := bytes.Repeat([]byte{byte(i)}, appData)
			sent = append(sent, p...)
			recs = append(recs, s.w[1].seal(typeApplicationData, p, s.seq[1], 0))
			s.seq[1]++
		}
	}
	return recs, sent
}

// TestKeyUpdateFlood: a peer that knows the keys (the other end of the
// connection) may send KeyUpdate after KeyUpdate, each a key schedule from
// 27 bytes. Past maxKeyUpdates in a row without application data (the
// limit BoringSSL enforces) the side is no longer decrypted; KeyUpdates
// between data go on being followed.
func TestKeyUpdateFlood(t *testing.T) {
	s := newSession(0x1301, false)
	s.build(nil)
	var out []byte
	c := NewConn(s.keys(), func(side int, p []byte, ts time.Time) {
		if side == 1 {
			out = append(out, p...)
		}
	})
	for _, ev := range s.evs {
		c.Feed(ev.side, ev.data, time.Time{})
	}
	recs, sent := keyUpdates(s, 3*maxKeyUpdates, 5)
	for _, r := range recs {
		c.Feed(1, r, time.Time{})
	}
	if in := c.Info(); !bytes.Equal(out, sent) || !in.Decrypted {
		t.Fatalf("KeyUpdates between data: %d bytes of %d, %+v", len(out), len(sent), in)
	}

	recs, _ = keyUpdates(s, maxKeyUpdates+1000, 0)
	for _, r := range recs[:maxKeyUpdates] {
		c.Feed(1, r, time.Time{})
	}
	if in := c.Info(); !in.Decrypted || c.dir[1].phase != phaseApp {
		t.Fatalf("%d KeyUpdates in a row not followed: %+v", maxKeyUpdates, in)
	}
	i := maxKeyUpdates
	allocs := testing.AllocsPerRun(100, func() {
		c.Feed(1, recs[i], time.Time{})
		i++
	})
	if in := c.Info(); allocs != 0 || in.Decrypted || !strings.Contains(in.Error, "KeyUpdate") || c.dir[1].phase != phaseOpaque {
		t.Errorf("past %d KeyUpdates in a row: %.1f allocations per KeyUpdate record, %+v", maxKeyUpdates, allocs, in)
	}
}

// clientHelloWith is a ClientHello with the given extensions block.
func clientHelloWith(cr [32]byte, exts []byte) []byte {
	b := []byte{3, 3}
	b = append(b, cr[:]...)
	b = append(b, vec8(nil)...)
	b = append(b, vec16([]byte{0x13, 0x01})...)
	b = append(b, vec8([]byte{0})...)
	return hsMsg(hsClientHello, append(b, vec16(exts)...))
}

// TestHelloListsBounded: a 64 KiB ClientHello can list tens of thousands
// of ALPN protocols or versions; the Conn keeps maxListed of each rather
// than 16 bytes of string header (or a formatted version) per input byte,
// and drops its reassembly buffer after such a message.
func TestHelloListsBounded(t *testing.T) {
	var alpn []byte
	for i := 0; i < 20000; i++ {
		alpn = append(alpn, vec8([]byte{byte('a' + i%26)})...)
	}
	exts := ext(extALPN, vec16(alpn))
	for len(exts) < 60000 {
		exts = append(exts, ext(extSupportedVersions, vec8(bytes.Repeat([]byte{0x7f, 0x01}, 127)))...)
	}
	ch := clientHelloWith([32]byte{1}, exts)
	c := NewConn(nil, nil)
	c.Feed(0, records(typeHandshake, ch), time.Time{})
	in := c.Info()
	if len(in.ALPNOffered) != maxListed || in.ALPNOffered[0] != "a" || len(in.Offered) != maxListed || in.Offered[0] != "0x7f01" || in.Error != "" {
		t.Errorf("%d protocols, %d versions kept, error %q", len(in.ALPNOffered), len(in.Offered), in.Error)
	}
	if n := cap(c.dir[0].hs.buf); n > maxKeptHandshakeBuffer {
		t.Errorf("handshake buffer of %d bytes kept after the message", n)
	}
}

// TestHandshakeReassemblyBounded: handshake lengths drive no allocation. A
// skipped message announcing 2^24-1 bytes, fed one byte at a time, is
// passed over without buffering; a kept one announcing more than
// maxHandshakeMessage ends the side at once.
func TestHandshakeReassemblyBounded(t *testing.T) {
	s := newSession(0xc02f, false)
	c := NewConn(nil, nil)
	c.Feed(0, records(typeHandshake, s.clientHello()), time.Time{})
	c.Feed(1, records(typeHandshake, s.serverHello()), time.Time{})
	msg := append([]byte{11, 0xff, 0xff, 0xff}, make([]byte, 3<<14)...) // Certificate, 2^24-1 bytes
	stream := records(typeHandshake, msg)
	i := 0
	allocs := testing.AllocsPerRun(len(stream)-1, func() {
		c.Feed(1, stream[i:i+1], time.Time{})
		i++
	})
	if d := &c.dir[1]; allocs != 0 || len(d.hs.buf) != 0 || d.hs.skip != 1<<24-1-(3<<14) || d.phase != phaseClear {
		t.Errorf("%.1f allocations per byte, buffer %d, skip %d", allocs, len(d.hs.buf), d.hs.skip)
	}

	c = NewConn(nil, nil)
	c.Feed(0, records(typeHandshake, []byte{hsClientHello, 0xff, 0xff, 0xff, 3, 3}), time.Time{})
	if d := &c.dir[0]; d.phase != phaseOpaque || cap(d.hs.buf) > 64 || !strings.Contains(c.Info().Error, "more than") {
		t.Errorf("oversized ClientHello: phase %d, buffer %d, %+v", d.phase, cap(d.hs.buf), c.Info())
	}
}

// TestTinyRecords: empty records, in the clear or failing decryption, cost
// nothing each.
func TestTinyRecords(t *testing.T) {
	s := newSession(0x1301, false)
	s.build(nil)
	empty := bytes.Repeat([]byte{typeHandshake, 3, 3, 0, 0}, 1000)
	c := NewConn(s.keys(), nil)
	c.Feed(0, s.evs[0].data, time.Time{})
	if allocs := testing.AllocsPerRun(10, func() { c.Feed(0, empty, time.Time{}) }); allocs != 0 {
		t.Errorf("clear: %.0f allocations for 1000 empty records", allocs)
	}
	for _, ev := range s.evs[1:] {
		c.Feed(ev.side, ev.data, time.Time{})
	}
	appEmpty := bytes.Repeat([]byte{typeApplicationData, 3, 3, 0, 0}, 1000)
	c.Feed(1, appEmpty[:5], time.Time{}) // fails once: the side becomes opaque
	if allocs := testing.AllocsPerRun(10, func() { c.Feed(1, appEmpty, time.Time{}) }); allocs != 0 || c.dir[1].phase != phaseOpaque {
		t.Errorf("encrypted: %.0f allocations for 1000 empty records, phase %d", allocs, c.dir[1].phase)
	}
}
