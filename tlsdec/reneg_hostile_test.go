package tlsdec

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// sealedMsg writes a handshake message as a peer fragments one longer
// than a record: in records of at most 2^14 bytes (RFC 5246 §6.2.1).
func (s *session) sealedMsg(side int, msg []byte, clear bool) {
	for len(msg) > 0 {
		n := min(len(msg), 1<<14)
		if clear {
			s.raw(side, typeHandshake, msg[:n])
		} else {
			s.sealed(side, typeHandshake, msg[:n], 0)
		}
		msg = msg[n:]
	}
}

// bigTicket is a NewSessionTicket whose ticket has the largest size RFC
// 5077 §3.3 allows (its message is 65541 bytes).
func bigTicket() []byte {
	t := bytes.Repeat([]byte{0x5a}, 0xffff)
	return hsMsg(hsNewSessionTicket, append([]byte{0, 0, 1, 0}, vec16(t)...))
}

// TestLargeSessionTicket: a TLS 1.2 server's NewSessionTicket as large as
// RFC 5077 allows, in the first handshake (in the clear, before the
// server's ChangeCipherSpec) or in a renegotiation, takes nothing from
// the decryption of the server's side. The message was refused as larger
// than the handshake messages kept (64 KiB), and the server's side ended
// there, unsaid where it was in the clear: a server's ticket alone hid
// everything it sent.
func TestLargeSessionTicket(t *testing.T) {
	for _, inReneg := range []bool{false, true} {
		s := newSession(0xc02f, false)
		s.sid = []byte("session-id-of-the-first-handshake")
		sent := s.handshake()
		if !inReneg {
			// Before the server's ChangeCipherSpec and Finished.
			n := len(s.evs)
			tail := append([]event(nil), s.evs[n-2:]...)
			s.evs = s.evs[:n-2]
			s.sealedMsg(1, bigTicket(), true)
			s.evs = append(s.evs, tail...)
		}
		sent = s.exchange([]int{40, 3000}, sent)
		if inReneg {
			s.sealedMsg(1, bigTicket(), false)
		}
		sent = s.exchange([]int{7}, sent)
		got := runSession(t, s.keys(), s.evs, nil)
		for side := range 2 {
			if !bytes.Equal(got.out[side], sent[side]) {
				t.Errorf("in renegotiation %v: side %d: %d bytes decrypted, %d sent (error %q)", inReneg, side, len(got.out[side]), len(sent[side]), got.info.Error)
			}
		}
		if in := got.info; !in.Decrypted || in.Error != "" {
			t.Errorf("in renegotiation %v: decrypted %v, error %q", inReneg, in.Decrypted, in.Error)
		}
	}
}

// TestRenegotiationRecordCut: a TLS 1.2 record under the session's keys
// that is not application data (a renegotiation's handshake record, its
// ChangeCipherSpec) and that a gap cut takes no application data with it:
// OnLost hears nothing of it (it heard the record's plaintext length, and
// the WebSocket decoder skipped as many bytes that were never lost), a cut
// ChangeCipherSpec still changes the keys (its content is known), and a
// cut record that held the renegotiation's ServerHello ends each side at
// its ChangeCipherSpec with that said. A cut Finished (alone in the first
// record after its side's ChangeCipherSpec) leaves the next renegotiation
// decrypted, its renegotiation_info not checked against it.
func TestRenegotiationRecordCut(t *testing.T) {
	// The records of a full renegotiation, from its HelloRequest:
	// HelloRequest, ClientHello, the server's flight from its ServerHello,
	// ClientKeyExchange, the client's ChangeCipherSpec and Finished,
	// NewSessionTicket, the server's ChangeCipherSpec and Finished.
	for _, tc := range []struct {
		name string
		at   int    // the record cut, from the HelloRequest
		err  string // a part of the error
		all  bool   // everything sent is decrypted (else what came before the renegotiation)
		more bool   // a second renegotiation follows
	}{
		{"ClientKeyExchange", 3, "side 0: record 8 (handshake) cut by lost bytes: no application data in it", true, false},
		{"client ChangeCipherSpec", 4, "side 0: record 9 (change_cipher_spec) cut by lost bytes: no application data in it", true, false},
		{"client Finished, another renegotiation after", 5, "side 0: record 10 (handshake: Finished) cut by lost bytes: no application data in it, decryption goes on", true, true},
		{"ClientHello", 1, "side 0: record 7 (handshake) cut by lost bytes: no application data in it, but the side's handshake messages are not read up to its next ChangeCipherSpec: a renegotiation among them is not decrypted (since: ", false, false},
		{"ServerHello", 2, "side 1: record 7 (handshake) cut by lost bytes: it may have held renegotiation 1's ServerHello, the keys of which are then not known: each side's records after its ChangeCipherSpec are counted, not decrypted (since: ", false, false},
	} {
		for _, sc := range sessionCases {
			if suites[sc.id].tls13 {
				continue
			}
			t.Run(tc.name+"/"+sc.name, func(t *testing.T) {
				s := newSession(sc.id, sc.etm)
				s.sid = []byte("session-id-of-the-first-handshake")
				sent := s.exchange([]int{40, 3000}, s.handshake())
				before := sent
				k := len(s.evs)
				s.renegotiate(1, renegOpts{})
				sent = s.exchange([]int{100, 17}, sent)
				if tc.more {
					s.renegotiate(2, renegOpts{})
					sent = s.exchange([]int{9}, sent)
				}
				var out [2][]byte
				lost := 0
				c := NewConn(s.keys(), func(side int, p []byte, _ time.Time) { out[side] = append(out[side], p...) })
				c.OnLost(func(_, n int, _ bool, _ time.Time) { lost += n })
				for i, ev := range s.evs {
					if i == k+tc.at {
						c.Feed(ev.side, ev.data[:10], time.Time{})
						c.Gap(ev.side, 5, time.Time{})
						c.Feed(ev.side, ev.data[15:], time.Time{})
						continue
					}
					c.Feed(ev.side, ev.data, time.Time{})
				}
				in := c.Info()
				want, wantLost := sent, 0
				if !tc.all { // each side stops at its ChangeCipherSpec; its later records are told lost
					want = [2][]byte{before[0][:40+3000], before[1][:40+3000]}
					after := bytesAfterSwitch(s.evs)
					wantLost = int(after[0] + after[1])
				}
				for side := range 2 {
					if !bytes.Equal(out[side], want[side]) {
						t.Errorf("side %d: %d bytes decrypted, want %d", side, len(out[side]), len(want[side]))
					}
				}
				if lost != wantLost || !strings.Contains(in.Error, tc.err) {
					t.Errorf("%d bytes told lost (want %d), error %q, want it to contain %q", lost, wantLost, in.Error, tc.err)
				}
			})
		}
	}
}

// TestRenegotiationSuiteChange: a renegotiation may negotiate another
// cipher suite (RFC 5246 §7.4.1.3 does not forbid it); its records are
// decrypted under it, and Info.Cipher names it, where it named the first
// handshake's suite for the rest of the connection.
func TestRenegotiationSuiteChange(t *testing.T) {
	for _, tc := range []struct{ from, to uint16 }{{0xc02f, 0xcca8}, {0xcca8, 0xc014}, {0xc013, 0xc030}} {
		s := newSession(tc.from, false)
		s.sid = []byte("session-id-of-the-first-handshake")
		sent := s.exchange([]int{40, 3000}, s.handshake())
		s.s = suites[tc.to]
		s.renegotiate(1, renegOpts{})
		sent = s.exchange([]int{100, 17}, sent)
		got := runSession(t, s.keys(), s.evs, nil)
		for side := range 2 {
			if !bytes.Equal(got.out[side], sent[side]) {
				t.Errorf("%04x to %04x: side %d: %d bytes decrypted, %d sent", tc.from, tc.to, side, len(got.out[side]), len(sent[side]))
			}
		}
		if in := got.info; in.Cipher != CipherSuiteName(tc.to) || in.Error != "" {
			t.Errorf("%04x to %04x: cipher %q, error %q, want %q", tc.from, tc.to, in.Cipher, in.Error, CipherSuiteName(tc.to))
		}
	}
}

// TestRenegotiationUnknownKeyGap: bytes lost on a side that changed to
// renegotiated keys not known are told to OnLost with its other bytes
// (they were not: a gap there ended the side untold).
func TestRenegotiationUnknownKeyGap(t *testing.T) {
	s, _ := renegSession(0xc02f, false, renegOpts{unlogged: true})
	after := bytesAfterSwitch(s.evs)
	last := -1 // the client's last record
	for i, ev := range s.evs {
		if ev.side == 0 {
			last = i
		}
	}
	lost := [2]int{}
	c := NewConn(s.keys(), nil)
	c.OnLost(func(side, n int, _ bool, _ time.Time) { lost[side] += n })
	for i, ev := range s.evs {
		if i == last {
			c.Feed(0, ev.data[:7], time.Time{})
			c.Gap(0, len(ev.data)-7, time.Time{})
			continue
		}
		c.Feed(ev.side, ev.data, time.Time{})
	}
	if lost != [2]int{int(after[0]), int(after[1])} {
		t.Errorf("OnLost told of %v bytes, want %v", lost, after)
	}
}

// TestRenegotiationAfterGap: a side that lost whole records just before
// its renegotiation's handshake finds its records again at the first
// handshake record (the ClientHello, under the keys it had), and the
// renegotiation is decrypted. The search took only application data and
// alerts: it passed over the ClientHello, and both sides ended at their
// ChangeCipherSpecs. (CBC suites do not resynchronise at all.)
func TestRenegotiationAfterGap(t *testing.T) {
	for _, sc := range sessionCases {
		if suites[sc.id].tls13 || suites[sc.id].bulk == bulkCBC {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			s := newSession(sc.id, sc.etm)
			s.sid = []byte("session-id-of-the-first-handshake")
			sent := s.exchange([]int{40, 3000}, s.handshake())
			k := len(s.evs)
			s.renegotiate(1, renegOpts{})
			sent = s.exchange([]int{100, 17}, sent)
			gone := k - 2 // the client's record of 3000 bytes, the last before the renegotiation
			var out [2][]byte
			lost := 0
			c := NewConn(s.keys(), func(side int, p []byte, _ time.Time) { out[side] = append(out[side], p...) })
			c.OnLost(func(_, n int, _ bool, _ time.Time) { lost += n })
			feedLosing(c, s.evs, gone)
			c.End(time.Time{})
			want0 := append(append([]byte(nil), sent[0][:40]...), sent[0][40+3000:]...)
			if !bytes.Equal(out[0], want0) || !bytes.Equal(out[1], sent[1]) || lost != 3000 {
				t.Errorf("%d/%d bytes decrypted, want %d/%d; %d told lost, want 3000; error %q", len(out[0]), len(out[1]), len(want0), len(sent[1]), lost, c.Info().Error)
			}
		})
	}
}

// TestRenegotiationOneSideLate: the reassembler holds a side's bytes
// behind a hole while the other side's go on, so one side's renegotiation
// messages may come after the other's answers: here every record of one
// side from the renegotiation on comes after all of the other's. The side
// that changes keys before they are known holds its records and decrypts
// them once they are. Both sides ended at their ChangeCipherSpecs (the
// server "with no renegotiation before it", the client "before the
// ServerHello"). A ClientHello that never comes, or held records past the
// bound, end the side as before, its records told lost. Two
// renegotiations within the hole: the early side's second ClientHello
// took away the late side's keys of the first, before its switch.
func TestRenegotiationOneSideLate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		late  int // the side whose records come last
		o     renegOpts
		drop  bool // the late side's records never come (the capture ends)
		bulky bool // the early side sends more than maxHeldReneg after its switch
		twice bool // a second renegotiation, within the same hole
	}{
		{"client late, full", 0, renegOpts{}, false, false, false},
		{"client late, abbreviated", 0, renegOpts{abbreviated: true}, false, false, false},
		{"server late, full", 1, renegOpts{}, false, false, false},
		{"server late, abbreviated", 1, renegOpts{abbreviated: true}, false, false, false},
		{"client late, two renegotiations", 0, renegOpts{}, false, false, true},
		{"server late, two renegotiations", 1, renegOpts{}, false, false, true},
		{"server late, two abbreviated", 1, renegOpts{abbreviated: true}, false, false, true},
		{"client late, never comes", 0, renegOpts{}, true, false, false},
		{"client late, the server's records past the bound", 0, renegOpts{abbreviated: true}, false, true, false},
		// Without the key log's line for the new client random, no line
		// tried opens the server's Finished: the side ends as before.
		{"client late, never comes, unlogged", 0, renegOpts{unlogged: true}, true, false, false},
		{"client late, the server's records past the bound, unlogged", 0, renegOpts{abbreviated: true, unlogged: true}, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(0xc02f, false)
			s.sid = []byte("session-id-of-the-first-handshake")
			sent := s.exchange([]int{40, 3000}, s.handshake())
			k := len(s.evs)
			s.renegotiate(1, renegOpts{abbreviated: tc.o.abbreviated, unlogged: tc.o.unlogged})
			sizes := []int{100, 17}
			if tc.bulky {
				sizes = []int{100}
				for range maxHeldReneg>>14 + 1 {
					sizes = append(sizes, 1<<14)
				}
			}
			sent = s.exchange(sizes, sent)
			if tc.twice {
				s.renegotiate(2, renegOpts{abbreviated: tc.o.abbreviated})
				sent = s.exchange([]int{33}, sent)
			}
			evs := append([]event(nil), s.evs[:k]...)
			var lateEvs []event
			for _, ev := range s.evs[k:] {
				switch {
				case ev.side == tc.late && tc.drop:
				case ev.side == tc.late:
					lateEvs = append(lateEvs, ev)
				default:
					evs = append(evs, ev)
				}
			}
			evs = append(evs, lateEvs...)
			var out [2][]byte
			lost := [2]int{}
			c := NewConn(s.keys(), func(side int, p []byte, _ time.Time) { out[side] = append(out[side], p...) })
			c.OnLost(func(side, n int, _ bool, _ time.Time) { lost[side] += n })
			for _, ev := range evs {
				c.Feed(ev.side, ev.data, time.Time{})
			}
			c.End(time.Time{})
			in := c.Info()
			if !tc.drop && !tc.bulky {
				if !bytes.Equal(out[0], sent[0]) || !bytes.Equal(out[1], sent[1]) || in.Error != "" || lost != [2]int{} {
					t.Errorf("%d/%d bytes decrypted, want %d/%d; %v told lost; error %q", len(out[0]), len(out[1]), len(sent[0]), len(sent[1]), lost, in.Error)
				}
				return
			}
			if !tc.o.unlogged {
				// The server's ServerHello without its ClientHello: the
				// key log's lines tried, the one of the new random opens
				// its Finished, and the server's records after its
				// switch are decrypted (renegguess.go; until then told
				// lost, as below).
				// The ClientHello come late after all: nothing is said.
				want, wantErr := sent, ""
				if tc.drop {
					want[0] = sent[0][:40+3000]
					wantErr = "renegotiation 1: its ServerHello came without its ClientHello (lost, or late behind a hole): its keys were found by trying the key log's lines (1 tried: client random "
				}
				if !bytes.Equal(out[0], want[0]) || !bytes.Equal(out[1], want[1]) || lost != [2]int{} ||
					!strings.HasPrefix(in.Error, wantErr) || wantErr == "" && in.Error != "" || in.Decrypted != (wantErr == "") {
					t.Errorf("%d/%d bytes decrypted, want %d/%d; %v told lost; error %q", len(out[0]), len(out[1]), len(want[0]), len(want[1]), lost, in.Error)
				}
				return
			}
			// The server's records after its switch are told lost, what
			// came before is decrypted; the client's, when they come, are
			// decrypted (the server's ServerHello was kept).
			after := bytesAfterSwitch(evs)
			want := [2][]byte{sent[0], sent[1][:40+3000]}
			if tc.drop {
				want[0] = sent[0][:40+3000]
			}
			if !bytes.Equal(out[0], want[0]) || !bytes.Equal(out[1], want[1]) || lost != [2]int{0, int(after[1])} ||
				!strings.HasPrefix(in.Error, "side 1: a renegotiation's ServerHello and ChangeCipherSpec with no ClientHello seen") {
				t.Errorf("%d/%d bytes decrypted, want %d/%d; %v told lost, want [0 %d]; error %q", len(out[0]), len(out[1]), len(want[0]), len(want[1]), lost, after[1], in.Error)
			}
		})
	}
}

// TestGapOverRenegotiation: bytes lost on a side during its
// renegotiation. Over its ChangeCipherSpec (and Finished), the keys known
// from the ServerHello: the side finds its records again under the new
// keys (it ended there, its records only counted, until session 39) and
// the data after is decrypted; nothing is told lost as exact. Over its
// last application record and ClientHello: the records found again are
// the renegotiation's, so the plaintext lost is told as an upper bound
// (it was told exact, handshake bytes counted as application data, and
// the WebSocket decoder skipped that many bytes that were never lost),
// and, the new client random lost with it, each side ends at its
// ChangeCipherSpec, said.
func TestGapOverRenegotiation(t *testing.T) {
	for _, sc := range sessionCases {
		if suites[sc.id].tls13 || suites[sc.id].bulk == bulkCBC {
			continue
		}
		for _, tc := range []struct {
			name   string
			opts   renegOpts
			gone   func(s *session, k int) []int // the client's records lost (indexes into s.evs)
			err    string
			resume bool // the client's data after the renegotiation is decrypted
		}{
			{"ChangeCipherSpec and Finished", renegOpts{}, func(s *session, k int) []int { return clientRecs(s, k, 3, 4) },
				" bytes lost, among them its ChangeCipherSpec to renegotiation 1's keys and 1 records after it (its Finished first): at most 16 bytes of application data, decryption goes on under the new keys", true},
			{"ChangeCipherSpec", renegOpts{}, func(s *session, k int) []int { return clientRecs(s, k, 3) },
				" bytes lost, among them its ChangeCipherSpec to renegotiation 1's keys and 0 records after it (its Finished first): at most 0 bytes", true},
			// An application record the client sent before its
			// ChangeCipherSpec lost with it: more bytes lost than the
			// old keys' tries cover (until session 39's review they
			// took every try, and the side ended).
			{"8000 bytes of data, ChangeCipherSpec and Finished", renegOpts{clientData: 8000}, func(s *session, k int) []int { return clientRecs(s, k, 3, 4, 5) },
				" bytes lost, among them its ChangeCipherSpec to renegotiation 1's keys and 1 records after it (its Finished first): at most 8", true},
			// 100 records of the old keys lost, the renegotiation's
			// keys pending: found under the old keys with as many tries
			// as without a renegotiation.
			{"100 records of data", renegOpts{clientData: 1, clientN: 101}, func(s *session, k int) []int { return clientRecs(s, k, seqs(3, 102)...) },
				" bytes lost, records lost: 100 (100 bytes of plaintext), decryption goes on", true},
			// The ClientHello lost: the key log's lines tried on the
			// server's Finished (renegguess.go; until then each side
			// ended at its ChangeCipherSpec, as it still does below
			// without the line).
			{"last data and ClientHello", renegOpts{}, func(s *session, k int) []int { return append([]int{k - 2}, clientRecs(s, k, 1)...) },
				"a renegotiation's handshake records may be among them), decryption goes on", true},
			{"last data and ClientHello, unlogged", renegOpts{unlogged: true}, func(s *session, k int) []int { return append([]int{k - 2}, clientRecs(s, k, 1)...) },
				"a renegotiation's handshake records may be among them), decryption goes on", false},
		} {
			t.Run(tc.name+"/"+sc.name, func(t *testing.T) {
				s := newSession(sc.id, sc.etm)
				s.sid = []byte("session-id-of-the-first-handshake")
				sent := s.exchange([]int{40, 3000}, s.handshake())
				k := len(s.evs)
				s.renegotiate(1, tc.opts)
				sent = s.exchange([]int{100, 17}, sent)
				gone := map[int]bool{}
				for _, i := range tc.gone(s, k) {
					gone[i] = true
				}
				var out [2][]byte
				exact := true
				c := NewConn(s.keys(), func(side int, p []byte, _ time.Time) { out[side] = append(out[side], p...) })
				c.OnLost(func(_, n int, ex bool, _ time.Time) { exact = exact && ex })
				for i, ev := range s.evs {
					if gone[i] {
						c.Gap(ev.side, len(ev.data), time.Time{})
						continue
					}
					c.Feed(ev.side, ev.data, time.Time{})
				}
				c.End(time.Time{})
				in := c.Info()
				t.Logf("error %q", in.Error)
				if !strings.Contains(in.Error, tc.err) {
					t.Errorf("error %q, want it to contain %q", in.Error, tc.err)
				}
				if got := bytes.HasSuffix(out[0], sent[0][len(sent[0])-100:]); got != tc.resume {
					t.Errorf("client's data after the renegotiation decrypted: %v, want %v (error %q, stop %q)", got, tc.resume, in.Error, in.StopError)
				}
				want1 := sent[1]
				if !tc.resume { // its ClientHello lost: each side ends at its ChangeCipherSpec
					want1 = want1[:40+3000]
					if !strings.Contains(in.StopError, "with no ClientHello seen") {
						t.Errorf("stop %q", in.StopError)
					}
				}
				if !bytes.Equal(out[1], want1) {
					t.Errorf("server: %d bytes decrypted, want %d", len(out[1]), len(want1))
				}
				if strings.HasPrefix(tc.name, "last data and ClientHello") && exact {
					t.Error("the plaintext lost was told exact: handshake records may be among it")
				}
			})
		}
	}
}

// seqs is from, from+1, ..., to.
func seqs(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// clientRecs returns the indexes in s.evs of the client's records n (from
// 0) of the renegotiation that starts at event k: 0 none (the HelloRequest
// is the server's), 1 its ClientHello, 2 ClientKeyExchange, 3
// ChangeCipherSpec, 4 Finished.
func clientRecs(s *session, k int, n ...int) []int {
	var idx []int
	for i := k; i < len(s.evs); i++ {
		if s.evs[i].side == 0 {
			idx = append(idx, i)
		}
	}
	var out []int
	for _, m := range n {
		out = append(out, idx[m-1])
	}
	return out
}
