package tlsdec

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// A TLS 1.2 renegotiation as a peer writes it (RFC 5246 §7.3, RFC 5746):
// every message inside the encrypted channel, each side changing keys at
// its own ChangeCipherSpec.

type renegOpts struct {
	abbreviated bool   // resume the session: the same master secret, new randoms
	unlogged    bool   // the key log has no line for the new client random
	ticket      bool   // (abbreviated) offer the ticket the server sent, not its session id
	badRI       bool   // the ClientHello's renegotiation_info is wrong
	noRI        bool   // and absent from both hellos
	garbageHR   []byte // the HelloRequest's body (a HelloRequest has none)
	finLen      int    // the length of each side's Finished verify_data (0: 12)
	clientData  int    // (full) bytes of application data the client sends before its ChangeCipherSpec, in a record
	clientN     int    // and how many such records (0: 1)
}

// riData is renegotiation_info's renegotiated_connection: verify_data, cut
// to the 255 bytes it holds (RFC 5746 §3.2).
func riData(b []byte) []byte { return b[:min(len(b), 255)] }

// renegClientHello is a renegotiation ClientHello: renegotiation_info
// carries the client's last verify_data.
func (s *session) renegClientHello(sid, ticket []byte, o renegOpts) []byte {
	b := append([]byte{3, 3}, s.cr[:]...)
	b = append(b, vec8(sid)...)
	b = append(b, vec16([]byte{byte(s.s.id >> 8), byte(s.s.id)})...)
	b = append(b, vec8([]byte{0})...)
	ri := append([]byte(nil), riData(s.verify[0])...)
	if o.badRI {
		ri[0] ^= 1
	}
	var exts []byte
	if !o.noRI {
		exts = append(exts, ext(extRenegotiationInfo, vec8(ri))...)
	}
	if ticket != nil {
		exts = append(exts, ext(extSessionTicket, ticket)...)
	}
	return hsMsg(hsClientHello, append(b, vec16(exts)...))
}

func (s *session) renegServerHello(sid []byte, o renegOpts) []byte {
	b := append([]byte{3, 3}, s.sr[:]...)
	b = append(b, vec8(sid)...)
	b = append(b, byte(s.s.id>>8), byte(s.s.id), 0)
	var exts []byte
	if !o.noRI {
		exts = append(exts, ext(extRenegotiationInfo, vec8(riData(append(append([]byte(nil), s.verify[0]...), s.verify[1]...))))...)
	}
	if s.etm {
		exts = append(exts, ext(extEncryptThenMAC, nil)...)
	}
	return hsMsg(hsServerHello, append(b, vec16(exts)...))
}

// renegotiate writes renegotiation n (from 1) started by the server's
// HelloRequest: new randoms, and a new master secret unless abbreviated.
func (s *session) renegotiate(n int, o renegOpts) {
	if s.more == "" {
		s.more = s.keyLog()
	}
	s.sealed(1, typeHandshake, hsMsg(0, o.garbageHR), 0) // HelloRequest
	for i := range s.cr {
		s.cr[i], s.sr[i] = byte(i*n+7*n), byte(0x40+i+n)
	}
	var sid, ticket []byte
	if o.abbreviated {
		sid = []byte("session-id-of-the-first-handshake")
		if o.ticket {
			sid, ticket = []byte("fresh-session-id-with-a-ticket"), []byte("ticket-sent-by-the-server")
		}
	} else {
		s.master = prf12(s.s.hash, []byte("master"), "reneg", s.cr[:], 48)
	}
	if !o.unlogged {
		s.more += "CLIENT_RANDOM " + hex.EncodeToString(s.cr[:]) + " " + hex.EncodeToString(s.master) + "\n"
	}
	s.sealed(0, typeHandshake, s.renegClientHello(sid, ticket, o), 0)
	w := s.writers12()
	fl := 12
	if o.finLen > 0 {
		fl = o.finLen
	}
	cfin, sfin := hsMsg(hsFinished, bytes.Repeat([]byte{byte(n)}, fl)), hsMsg(hsFinished, bytes.Repeat([]byte{byte(0x80 + n)}, fl))
	switchSide := func(side int, fin []byte) {
		s.sealed(side, typeChangeCipherSpec, []byte{1}, 0)
		s.w[side], s.seq[side] = w[side], 0
		s.sealed(side, typeHandshake, fin, 0)
	}
	sh := s.renegServerHello(sid, o)
	if o.abbreviated {
		s.sealed(1, typeHandshake, sh, 0)
		switchSide(1, sfin)
		switchSide(0, cfin)
	} else {
		s.sealed(1, typeHandshake, append(append(sh, hsMsg(11, make([]byte, 900))...), hsMsg(14, nil)...), 0)
		s.sealed(0, typeHandshake, hsMsg(16, make([]byte, 65)), 0)
		for range max(o.clientN, 1) * min(o.clientData, 1) {
			s.sealed(0, typeApplicationData, appData(0, 9, o.clientData), 0)
		}
		switchSide(0, cfin)
		s.sealed(1, typeHandshake, hsMsg(hsNewSessionTicket, append([]byte{0, 0, 1, 0}, vec16([]byte("ticket-sent-by-the-server"))...)), 0)
		switchSide(1, sfin)
	}
	s.verify = [2][]byte{cfin[4:], sfin[4:]}
}

// renegSession is a TLS 1.2 session of suite id that renegotiates once per
// opts, with application data before, between and after (a message of
// the application split across each renegotiation), and the data sent.
func renegSession(id uint16, etm bool, opts ...renegOpts) (*session, [2][]byte) {
	s := newSession(id, etm)
	s.sid = []byte("session-id-of-the-first-handshake")
	sent := s.exchange([]int{40, 3000}, s.handshake())
	for i, o := range opts {
		s.renegotiate(i+1, o)
		sent = s.exchange([]int{100 + i, 17}, sent)
	}
	s.sealed(0, typeAlert, []byte{1, 0}, 0) // close_notify
	return s, sent
}

// TestRenegotiation: TLS 1.2 sessions that renegotiate (full, abbreviated
// by session id or by ticket, the key logged or not, several in a row)
// decrypt to the end, for every TLS 1.2 suite and record splitting. Until
// session 38 each side stopped at its first renegotiation's
// ChangeCipherSpec.
func TestRenegotiation(t *testing.T) {
	full, abbr := renegOpts{}, renegOpts{abbreviated: true}
	for _, tc := range []struct {
		name string
		opts []renegOpts
	}{
		{"full", []renegOpts{full}},
		{"full-unlogged-resumed-by-session-id", []renegOpts{{abbreviated: true, unlogged: true}}},
		{"abbreviated-logged", []renegOpts{abbr}},
		{"full-then-abbreviated-by-ticket-unlogged", []renegOpts{full, {abbreviated: true, ticket: true, unlogged: true}}},
		{"three-in-a-row", []renegOpts{full, abbr, full}},
	} {
		for _, sc := range sessionCases {
			if suites[sc.id].tls13 {
				continue
			}
			t.Run(tc.name+"/"+sc.name, func(t *testing.T) {
				s, sent := renegSession(sc.id, sc.etm, tc.opts...)
				for _, split := range []func(int) []int{nil, func(n int) []int {
					if n < 12 {
						return []int{n / 2}
					}
					return []int{1, 4, 5, (n - 10) / 2}
				}} {
					got := runSession(t, s.keys(), s.evs, split)
					for side := range 2 {
						if !bytes.Equal(got.out[side], sent[side]) {
							t.Errorf("side %d: %d bytes decrypted, %d sent", side, len(got.out[side]), len(sent[side]))
						}
					}
					if in := got.info; !in.Decrypted || in.Error != "" || in.Renegotiations != len(tc.opts) || in.Stopped {
						t.Errorf("decrypted %v, error %q, %d renegotiations, stopped %v", in.Decrypted, in.Error, in.Renegotiations, in.Stopped)
					}
				}
			})
		}
	}
}

// TestRenegotiationUnknownKey: a renegotiation whose master secret the key
// log lacks (a full one, or one resuming a session this connection did not
// establish) ends each side at its ChangeCipherSpec, says so with the
// client random, and counts the records' bytes after it, which OnLost
// hears of as a dead side's (they went untold: the WebSocket's end said
// nothing of them, its lost_bytes 0, in the table and conns).
func TestRenegotiationUnknownKey(t *testing.T) {
	for _, o := range []renegOpts{{unlogged: true}, {abbreviated: true, ticket: true, unlogged: true}} {
		s, sent := renegSession(0xc02f, false, o)
		after := bytesAfterSwitch(s.evs)
		got := runSession(t, s.keys(), s.evs, nil)
		in := got.info
		wantErr := "renegotiation 1 to keys not known (key log has no CLIENT_RANDOM line for client random " + hex.EncodeToString(s.cr[:]) + ")"
		if in.Decrypted || !strings.Contains(in.Error, wantErr) {
			t.Fatalf("error %q, want it to contain %q", in.Error, wantErr)
		}
		if !in.Stopped {
			t.Errorf("Stopped false: decryption stopped partway (%s)", in.Error)
		}
		if tail := fmt.Sprintf(" (since: %d bytes of client records, %d of server records)", after[0], after[1]); !strings.HasSuffix(in.Error, tail) {
			t.Errorf("error %q, want it to end %q", in.Error, tail)
		}
		if got.lost != [2]int{int(after[0]), int(after[1])} { // (the WebSocket decoder's lost_bytes)
			t.Errorf("OnLost told of %v bytes, want %v", got.lost, after)
		}
		for side := range 2 { // the data before the renegotiation, no more
			if n := 40 + 3000; !bytes.Equal(got.out[side], sent[side][:n]) {
				t.Errorf("side %d: %d bytes decrypted, want the %d before the renegotiation", side, len(got.out[side]), n)
			}
		}
	}
}

// bytesAfterSwitch returns the bytes of each side's records after its
// ChangeCipherSpec of the first renegotiation (the first sealed one,
// longer than 6 bytes).
func bytesAfterSwitch(evs []event) (after [2]int64) {
	past := [2]bool{}
	for _, ev := range evs {
		if ev.data[0] == typeChangeCipherSpec && len(ev.data) > 6 && !past[ev.side] {
			past[ev.side] = true
			continue
		}
		if past[ev.side] {
			after[ev.side] += int64(len(ev.data))
		}
	}
	return after
}

// TestRenegotiationForged: handshake messages inside the encrypted channel
// that are garbage, or a renegotiation that breaks RFC 5746, never stop
// the application data under the current keys; a side is given up only at
// a ChangeCipherSpec with no keys to change to, and the error says why.
func TestRenegotiationForged(t *testing.T) {
	junk := []byte("\x03\x03not a hello at all, but bytes sent under the session's keys")
	for _, tc := range []struct {
		name  string
		build func(s *session) [2][]byte
		err   string // "" no error; else a part of it
	}{
		{"garbage HelloRequest body", func(s *session) [2][]byte {
			s.renegotiate(1, renegOpts{garbageHR: junk})
			return s.exchange([]int{33}, [2][]byte{})
		}, ""},
		{"HelloRequest claiming 16 MiB", func(s *session) [2][]byte {
			s.sealed(1, typeHandshake, []byte{0, 0xff, 0xff, 0xff, 1, 2, 3}, 0)
			return s.exchange([]int{33, 2000}, [2][]byte{})
		}, ""},
		{"garbage ClientHello, data after it", func(s *session) [2][]byte {
			s.sealed(0, typeHandshake, hsMsg(hsClientHello, junk), 0)
			return s.exchange([]int{33, 2000}, [2][]byte{})
		}, ""},
		{"garbage ClientHello, then ChangeCipherSpec", func(s *session) [2][]byte {
			s.sealed(0, typeHandshake, hsMsg(hsClientHello, junk), 0)
			s.sealed(0, typeChangeCipherSpec, []byte{1}, 0)
			s.sealed(0, typeApplicationData, []byte("unseen"), 0)
			return [2][]byte{}
		}, "side 0: renegotiation 1 to keys not known (its ClientHello is malformed): its records after its ChangeCipherSpec are counted, not decrypted (since: 35 bytes of client records, 0 of server records)"},
		{"ChangeCipherSpec with no renegotiation", func(s *session) [2][]byte {
			s.sealed(1, typeChangeCipherSpec, []byte{1}, 0)
			return [2][]byte{}
		}, "side 1: ChangeCipherSpec inside the encrypted channel with no renegotiation before it"},
		{"renegotiation_info wrong", func(s *session) [2][]byte {
			s.renegotiate(1, renegOpts{badRI: true})
			return s.exchange([]int{33}, [2][]byte{})
		}, "renegotiation 1: its ClientHello's renegotiation_info does not match the Finished messages before it (RFC 5746 §3.7); decryption goes on"},
		{"renegotiation_info absent", func(s *session) [2][]byte {
			s.renegotiate(1, renegOpts{noRI: true})
			return s.exchange([]int{33}, [2][]byte{})
		}, "renegotiation 1: its ClientHello has no renegotiation_info: insecure renegotiation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(0xc02f, false)
			sent := s.exchange([]int{40}, s.handshake())
			more := tc.build(s)
			for side := range 2 {
				sent[side] = append(sent[side], more[side]...)
			}
			got := runSession(t, s.keys(), s.evs, nil)
			in := got.info
			if tc.err == "" && (in.Error != "" || !in.Decrypted) || !strings.Contains(in.Error, tc.err) {
				t.Errorf("error %q, want %q", in.Error, tc.err)
			}
			for side := range 2 {
				if !bytes.Equal(got.out[side], sent[side]) {
					t.Errorf("side %d: %d bytes decrypted, %d sent", side, len(got.out[side]), len(sent[side]))
				}
			}
		})
	}
}

// TestRenegotiationBeforeServerChangeCipherSpec: a client ClientHello
// inside its channel before the server's first ChangeCipherSpec does not
// take the server's keys of the first handshake away (the server's side
// was left undecrypted, with no error, when it did).
func TestRenegotiationBeforeServerChangeCipherSpec(t *testing.T) {
	s := newSession(0xc02f, false)
	s.handshake()
	// Move the server's ChangeCipherSpec and Finished after a client
	// ClientHello under the client's keys.
	n := len(s.evs)
	tail := append([]event(nil), s.evs[n-2:]...)
	s.evs = s.evs[:n-2]
	s.sealed(0, typeHandshake, s.renegClientHello(nil, nil, renegOpts{}), 0)
	s.evs = append(s.evs, tail...)
	sent := s.exchange([]int{40}, [2][]byte{})
	got := runSession(t, s.keys(), s.evs, nil)
	for side := range 2 {
		if !bytes.Equal(got.out[side], sent[side]) {
			t.Errorf("side %d: %d bytes decrypted, %d sent (error %q)", side, len(got.out[side]), len(sent[side]), got.info.Error)
		}
	}
}

// TestRenegotiationLongFinished: a cipher suite may define verify_data
// longer than 12 bytes (RFC 5246 §7.4.9). The next renegotiation's
// renegotiation_info is checked against it up to the 255 bytes it holds
// (RFC 5746 §3.2) and said not checked past that; a Finished over 64
// bytes used to leave the previous verify_data in place, and the next
// renegotiation raised a false mismatch.
func TestRenegotiationLongFinished(t *testing.T) {
	for _, tc := range []struct {
		finLen int
		err    string // "": none
	}{
		{12, ""},
		{64, ""},
		{65, ""},
		{100, ""}, // each side's fits, and both together (200)
		{127, ""}, // 254 together
		{128, "renegotiation 2: its ServerHello's renegotiation_info is not checked: the Finished messages before it carried 256 bytes of verify_data, more than the 255 it holds (RFC 5746 §3.2); decryption goes on"},
		{255, "renegotiation 2: its ServerHello's renegotiation_info is not checked: the Finished messages before it carried 510 bytes"},
		{300, "renegotiation 2: its ClientHello's renegotiation_info is not checked: the Finished messages before it carried 300 bytes of verify_data, more than the 255 it holds (RFC 5746 §3.2); decryption goes on"},
	} {
		t.Run(fmt.Sprint(tc.finLen), func(t *testing.T) {
			s, sent := renegSession(0xc02f, false, renegOpts{finLen: tc.finLen}, renegOpts{}, renegOpts{})
			got := runSession(t, s.keys(), s.evs, nil)
			in := got.info
			if tc.err == "" && in.Error != "" || !strings.HasPrefix(in.Error, tc.err) {
				t.Errorf("error %q, want %q", in.Error, tc.err)
			}
			if strings.Contains(in.Error, "does not match") || in.Renegotiations != 3 || in.Stopped {
				t.Errorf("error %q, %d renegotiations, stopped %v", in.Error, in.Renegotiations, in.Stopped)
			}
			for side := range 2 {
				if !bytes.Equal(got.out[side], sent[side]) {
					t.Errorf("side %d: %d bytes decrypted, %d sent", side, len(got.out[side]), len(sent[side]))
				}
			}
		})
	}
}

// TestRenegotiationRefused: a server that declines a renegotiation
// ClientHello with a warning no_renegotiation alert (RFC 5246 §7.2.2)
// renegotiated nothing: the session goes on under its keys and the refused
// hello is not counted (until a hostile review, Renegotiations 1). The
// same alert elsewhere (the client's answer to a HelloRequest, a fatal
// one, one with no hello pending) changes nothing of a counted one.
func TestRenegotiationRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		side  int
		alert []byte
		want  int
	}{
		{"server warning no_renegotiation", 1, []byte{1, alertNoRenegotiation}, 0},
		{"server fatal no_renegotiation", 1, []byte{2, alertNoRenegotiation}, 1},
		{"server warning close_notify", 1, []byte{1, 0}, 1},
		{"client warning no_renegotiation", 0, []byte{1, alertNoRenegotiation}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, sent := renegSession(0xc02f, false)
			s.sealed(1, typeHandshake, hsMsg(0, nil), 0) // HelloRequest
			cr := s.cr
			for i := range s.cr {
				s.cr[i] = byte(0x90 + i)
			}
			s.sealed(0, typeHandshake, s.renegClientHello(nil, nil, renegOpts{}), 0)
			s.cr = cr
			s.sealed(tc.side, typeAlert, tc.alert, 0)
			sent = s.exchange([]int{50, 60}, sent)
			got := runSession(t, s.keys(), s.evs, nil)
			for side := range 2 {
				if !bytes.Equal(got.out[side], sent[side]) {
					t.Errorf("side %d: %d bytes decrypted, %d sent", side, len(got.out[side]), len(sent[side]))
				}
			}
			if in := got.info; in.Renegotiations != tc.want || !in.Decrypted || in.Stopped {
				t.Errorf("%d renegotiations (want %d), decrypted %v, stopped %v, error %q", in.Renegotiations, tc.want, in.Decrypted, in.Stopped, in.Error)
			}
		})
	}
	// Refused, then one that goes through: 1, numbered 1 in what is said.
	s, sent := renegSession(0xc02f, false)
	s.sealed(0, typeHandshake, s.renegClientHello(nil, nil, renegOpts{}), 0)
	s.sealed(1, typeAlert, []byte{1, alertNoRenegotiation}, 0)
	s.renegotiate(1, renegOpts{badRI: true})
	sent = s.exchange([]int{70}, sent)
	got := runSession(t, s.keys(), s.evs, nil)
	if in := got.info; in.Renegotiations != 1 || !strings.Contains(in.Error, "renegotiation 1: its ClientHello's renegotiation_info does not match") {
		t.Errorf("refused then renegotiated: %d renegotiations, error %q", in.Renegotiations, in.Error)
	}
	for side := range 2 {
		if !bytes.Equal(got.out[side], sent[side]) {
			t.Errorf("refused then renegotiated: side %d: %d bytes decrypted, %d sent", side, len(got.out[side]), len(sent[side]))
		}
	}
}
