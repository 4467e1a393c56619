package tlsdec

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestEarlyDataHeld: 0-RTT early data is held until the server answers.
// Rejected (no early_data in EncryptedExtensions, TestEarlyData; or, that
// record not captured, the client's first record under the handshake keys
// without EndOfEarlyData) it is discarded and counted: a client sends it
// again after the handshake, and until session 36 the request showed twice.
// With no answer captured at all, it is passed on at End and said.
func TestEarlyDataHeld(t *testing.T) {
	feed := func(s *session, evs []event) (out [2][]byte, in Info) {
		c := NewConn(s.keys(), func(side int, p []byte, ts time.Time) { out[side] = append(out[side], p...) })
		for _, ev := range evs {
			c.Feed(ev.side, ev.data, time.Time{})
		}
		c.End(time.Time{})
		return out, c.Info()
	}
	t.Run("rejected-answer-not-captured", func(t *testing.T) {
		s := newSession(0x1301, false)
		s.early, s.logEarly, s.rejectEarly = appData(0, 99, 200), true, true
		sent := s.build([]int{42})
		var evs []event
		for _, ev := range s.evs {
			if ev.side == 1 && ev.data[0] == typeApplicationData && len(evs) < 8 {
				continue // the server's flight under the handshake keys
			}
			evs = append(evs, ev)
		}
		out, in := feed(s, evs)
		if !bytes.Equal(out[0], sent[0]) || !strings.Contains(in.Error, "rejected the client's 0-RTT early data: 200 bytes discarded") {
			t.Errorf("client out %d of %d, %+v", len(out[0]), len(sent[0]), in)
		}
	})
	t.Run("unanswered", func(t *testing.T) {
		s := newSession(0x1302, false)
		s.early, s.logEarly, s.rejectEarly = appData(0, 99, 300), true, true // (no EndOfEarlyData)
		s.build([]int{42})
		n := 0
		for n < len(s.evs) && s.evs[n].side == 0 {
			n++
		}
		out, in := feed(s, s.evs[:n])
		if !bytes.Equal(out[0], s.early) || !strings.Contains(in.Error, "answer to the client's 0-RTT early data was not seen: 300 bytes passed on") {
			t.Errorf("client out %d of %d, %+v", len(out[0]), len(s.early), in)
		}
	})
}

// TestEarlyDataAfterRejection: early data records still coming after the
// server's answer rejected them (a client's 0-RTT flight larger than its
// first window goes out after the ServerHello came) are discarded with the
// rest. Until session 36 (review) the held record was discarded and the
// later one passed on: the tail of a request without its head.
func TestEarlyDataAfterRejection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reject bool
	}{{"rejected", true}, {"accepted", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(0x1301, false)
			s.early, s.logEarly, s.rejectEarly = appData(0, 99, 200), true, tc.reject
			sent := s.build([]int{42})
			// The server's ServerHello, ChangeCipherSpec and flight under
			// the handshake keys before the second early record.
			evs := append([]event(nil), s.evs[:3]...)
			var rest []event
			for i, ev := range s.evs[3:] {
				if ev.side == 1 && len(evs) < 7 {
					evs = append(evs, ev)
					continue
				}
				rest = append(rest, s.evs[3+i])
			}
			evs = append(evs, rest...)
			var out [2][]byte
			c := NewConn(s.keys(), func(side int, p []byte, ts time.Time) { out[side] = append(out[side], p...) })
			for _, ev := range evs {
				c.Feed(ev.side, ev.data, time.Time{})
			}
			c.End(time.Time{})
			in := c.Info()
			wantErr := ""
			if tc.reject {
				wantErr = "rejected the client's 0-RTT early data: 200 bytes discarded"
			}
			if !bytes.Equal(out[0], sent[0]) || !bytes.Equal(out[1], sent[1]) || !strings.Contains(in.Error, wantErr) || !tc.reject && in.Error != "" {
				t.Errorf("client out %d of %d, server %d of %d, %+v", len(out[0]), len(sent[0]), len(out[1]), len(sent[1]), in)
			}
		})
	}
}

// TestEarlyDataHelloRetry: a HelloRetryRequest rejects early data (RFC
// 8446 §4.1.4): with nothing of the server's later flight or the client's
// later records captured, what was held is discarded at the end, not passed
// on as unanswered.
func TestEarlyDataHelloRetry(t *testing.T) {
	s := newSession(0x1301, false)
	s.early, s.logEarly, s.rejectEarly = appData(0, 99, 200), true, true
	s.build([]int{42})
	hrr := newSession(0x1301, false)
	hrr.sr = helloRetryRandom
	var out []byte
	c := NewConn(s.keys(), func(side int, p []byte, ts time.Time) { out = append(out, p...) })
	for _, ev := range append(s.evs[:4:4], event{1, records(typeHandshake, hrr.serverHello())}) {
		c.Feed(ev.side, ev.data, time.Time{})
	}
	c.End(time.Time{})
	if in := c.Info(); len(out) != 0 || !strings.Contains(in.Error, "rejected the client's 0-RTT early data: 200 bytes discarded") {
		t.Errorf("out %d bytes, %+v", len(out), in)
	}
}

// TestEarlyRejectedThenLoss: 0-RTT early data the server rejected, then a
// server record lost to a gap (decryption goes on): the loss is the error,
// not the rejection's note, as it is the failure Decrypted false stands
// for (until a review the note kept the error's place, and a connection
// decrypted false named only the rejection, a note since 0-RTT rejected
// no longer clears Decrypted).
func TestEarlyRejectedThenLoss(t *testing.T) {
	s := newSession(0x1301, false)
	s.early, s.logEarly, s.rejectEarly = appData(0, 99, 200), true, true
	sent := s.handshake()
	k := len(s.evs)
	s.exchange([]int{42, 1000, 50}, sent)
	c := NewConn(s.keys(), func(int, []byte, time.Time) {})
	for i, ev := range s.evs {
		if i == k+1 { // the server's first record of data
			c.Gap(ev.side, len(ev.data), time.Time{})
			continue
		}
		c.Feed(ev.side, ev.data, time.Time{})
	}
	c.End(time.Time{})
	in := c.Info()
	if in.Decrypted || !strings.HasPrefix(in.Error, "side 1: ") || !strings.Contains(in.Error, "lost") {
		t.Errorf("decrypted %v, error %q: want the loss", in.Decrypted, in.Error)
	}
}
