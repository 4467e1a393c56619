package tlsdec

import (
	"bytes"
	"testing"
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
