package wsparse

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAnswerExpires: a 101 held for its request is believed once it has
// waited heldAnswerFor on the caller's clock (ExpireAnswers: any packet of
// the capture, or a tick), though neither side sent more; before that it
// waits, and a request then is read first. Until session 37 the bound was
// checked only when the server sent more: a 101 followed by silence waited
// for its connection's end.
func TestAnswerExpires(t *testing.T) {
	resp := []byte(upgradeResponse(""))
	sf := frame(true, 0, OpText, nil, "HELLO")
	cf := frame(true, 0, OpText, testMask, "hello")
	for _, tc := range []struct {
		name    string
		checkAt int // ms after the 101
		req     bool
		want    string // the records when the client's bytes come (the 101, the frame, its message)
	}{
		{"waits", 500, true, "0 records before the client's bytes"},
		{"expired", 1001, false, "3 records before the client's bytes"},
		{"expired, request later", 1500, true, "3 records before the client's bytes"},
	} {
		s := &logSink{}
		sh := NewShared(Config{}, s)
		c := sh.NewConn(1, testClient, testServer)
		c.Feed(1, cat(resp, sf), testTime)
		sh.ExpireAnswers(testTime.Add(time.Duration(tc.checkAt) * time.Millisecond))
		got := fmt.Sprintf("%d records before the client's bytes", len(s.lines))
		if len(sh.answers) != 0 && tc.checkAt > 1000 {
			t.Errorf("%s: %d connections still listed", tc.name, len(sh.answers))
		}
		b := cf
		if tc.req {
			b = cat([]byte(upgradeRequest("")), cf)
		}
		c.Feed(0, b, testTime.Add(time.Duration(tc.checkAt)*time.Millisecond))
		c.End(testTime.Add(2 * time.Second))
		if got != tc.want {
			t.Errorf("%s: %s, want %s:\n%s", tc.name, got, tc.want, strings.Join(s.lines, "\n"))
		}
		anom := s.sum.Anomalies.String()
		if wantAsked := tc.checkAt < 1000; strings.Contains(anom, "answer_before_request") != wantAsked || strings.Contains(anom, "request_incomplete") == wantAsked {
			t.Errorf("%s: anomalies %s", tc.name, anom)
		}
	}
}
