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
func TestRenegotiationGuessBound(t *testing.T) {
	for _, junk := range []int{0, maxRenegGuesses - 1, maxRenegGuesses} {
		t.Run(fmt.Sprint(junk), func(t *testing.T) {
			s := newSession(0xc02f, false)
			sent := s.exchange([]int{40, 3000}, s.handshake())
			k := len(s.evs)
			s.renegotiate(1, renegOpts{})
			sent = s.exchange([]int{100, 17}, sent)
			lines := strings.SplitAfter(s.keyLog(), "\n")
			var log strings.Builder
			log.WriteString(lines[0]) // the connection's
			for i := range junk {
				fmt.Fprintf(&log, "CLIENT_RANDOM %064x %096x\n", i+1, i+1)
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
			for i, ev := range s.evs {
				if i == gone {
					c.Gap(ev.side, len(ev.data), time.Time{})
					continue
				}
				c.Feed(ev.side, ev.data, time.Time{})
			}
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
