package tlsdec

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRenegotiationGuessBound: a renegotiation's ClientHello lost, the
// key log's lines are tried from the connection's own on, at most
// maxRenegGuesses of them: the new random's line just within the bound is
// found (the server's records after its switch decrypted), one past it is
// not (the side ends at its ChangeCipherSpec, said, as before the search).
// Lines of other labels between count as lines looked at (until a review
// only CLIENT_RANDOM lines did: a key log of a million TLS 1.3 lines was
// looked through on each search).
func TestRenegotiationGuessBound(t *testing.T) {
	for _, tc := range []struct {
		junk  int
		label string
	}{{0, ""}, {maxRenegGuesses - 1, "CLIENT_RANDOM"}, {maxRenegGuesses, "CLIENT_RANDOM"},
		{maxRenegGuesses - 1, "CLIENT_TRAFFIC_SECRET_0"}, {maxRenegGuesses, "CLIENT_TRAFFIC_SECRET_0"}} {
		junk := tc.junk
		t.Run(fmt.Sprint(junk, tc.label), func(t *testing.T) {
			s := newSession(0xc02f, false)
			sent := s.exchange([]int{40, 3000}, s.handshake())
			k := len(s.evs)
			s.renegotiate(1, renegOpts{})
			sent = s.exchange([]int{100, 17}, sent)
			lines := strings.SplitAfter(s.keyLog(), "\n")
			var log strings.Builder
			log.WriteString(lines[0]) // the connection's
			for i := range junk {
				fmt.Fprintf(&log, "%s %064x %096x\n", tc.label, i+1, i+1)
			}
			log.WriteString(strings.Join(lines[1:], "")) // the renegotiation's
			keys, err := ParseKeyLog(strings.NewReader(log.String()))
			if err != nil {
				t.Fatal(err)
			}
			gone := clientRecs(s, k, 1)[0] // its ClientHello
			var out [2][]byte
			c := NewConn(keys, func(side int, p []byte, _ time.Time) { out[side] = append(out[side], p...) })
			start := time.Now()
			feedLosing(c, s.evs, gone)
			c.End(time.Time{})
			t.Logf("%d lines tried in %v", min(junk+1, maxRenegGuesses), time.Since(start))
			in := c.Info()
			found := junk < maxRenegGuesses
			if got := bytes.Equal(out[1], sent[1]) && bytes.HasSuffix(out[0], sent[0][len(sent[0])-100:]); got != found {
				t.Errorf("decrypted to the end: %v, want %v (error %q, stop %q)", got, found, in.Error, in.StopError)
			}
			if !found && !strings.Contains(in.StopError, "with no ClientHello seen") {
				t.Errorf("stop %q", in.StopError)
			}
		})
	}
}

// TestRenegotiationGuessBudget: the key search draws on the budget shared
// by a capture's connections (GuessBudget): the renegotiation's line
// 11th after the connection's is found with 11 lines left, not with 10
// (the side ends, its stop error says the total was spent, the search
// counted as cut), and the lines tried are taken from the budget.
func TestRenegotiationGuessBudget(t *testing.T) {
	const junk = 10
	for _, tc := range []struct {
		left     int
		unlogged bool
	}{{junk + 1, false}, {junk, false}, {0, false}, {1000, false}, {1000, true}} {
		left := tc.left
		t.Run(fmt.Sprint(left, tc.unlogged), func(t *testing.T) {
			s := newSession(0xc02f, false)
			sent := s.exchange([]int{40, 3000}, s.handshake())
			k := len(s.evs)
			s.renegotiate(1, renegOpts{unlogged: tc.unlogged})
			sent = s.exchange([]int{100, 17}, sent)
			lines := strings.SplitAfter(s.keyLog(), "\n")
			var log strings.Builder
			log.WriteString(lines[0])
			for i := range junk {
				fmt.Fprintf(&log, "CLIENT_RANDOM %064x %096x\n", i+1, i+1)
			}
			log.WriteString(strings.Join(lines[1:], ""))
			keys, err := ParseKeyLog(strings.NewReader(log.String()))
			if err != nil {
				t.Fatal(err)
			}
			gone := clientRecs(s, k, 1)[0]
			var out [2][]byte
			c := NewConn(keys, func(side int, p []byte, _ time.Time) { out[side] = append(out[side], p...) })
			b := &GuessBudget{Left: left}
			c.SetGuessBudget(b)
			feedLosing(c, s.evs, gone)
			c.End(time.Time{})
			in := c.Info()
			found := left > junk && !tc.unlogged
			if got := bytes.Equal(out[1], sent[1]); got != found {
				t.Errorf("decrypted to the end: %v, want %v (error %q, stop %q)", got, found, in.Error, in.StopError)
			}
			// (unlogged: every line tried within the budget, none cut)
			wantCut, wantLeft := 0, max(left-junk-1, 0)
			if left <= junk {
				wantCut = 1
			}
			if tc.unlogged {
				// The connection's own line tried too, on each side's
				// first record (a pcapng's secrets may come between).
				wantLeft = left - 2*(junk+1)
			}
			if b.Cut != wantCut || b.Left != wantLeft {
				t.Errorf("budget %+v, want %d cut, %d left", *b, wantCut, wantLeft)
			}
			if spent := strings.Contains(in.StopError, "key log lines to try for such renegotiations were spent"); spent != (wantCut == 1) {
				t.Errorf("stop %q", in.StopError)
			}
		})
	}
}

// feedLosing feeds c every event but the one at index gone, which the
// capture lost: a gap of its length on its side.
func feedLosing(c *Conn, evs []event, gone int) {
	for i, ev := range evs {
		if i == gone {
			c.Gap(ev.side, len(ev.data), time.Time{})
			continue
		}
		c.Feed(ev.side, ev.data, time.Time{})
	}
}
