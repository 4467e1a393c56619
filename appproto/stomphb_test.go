package appproto

import (
	"slices"
	"testing"
	"time"
)

// TestSTOMPHeartBeatOverflow: a heart-beat period past what a
// time.Duration holds is bad, not wrapped around: 18446744073710 ms
// (2^64 ns, and 448,384 ns) was a 448 µs interval, and the session's 45 s
// of silence 100,364 missed beats each way. The largest period that fits
// is kept.
func TestSTOMPHeartBeatOverflow(t *testing.T) {
	for _, hb := range []string{"18446744073710", "9223372036855", "9223372036854775807"} {
		s := New(hsProto("v12.stomp"), ModeAuto)
		apps := run(s, c2s("CONNECT\nheart-beat:"+hb+",10000\n\n\x00"), s2c("CONNECTED\nheart-beat:10000,"+hb+"\n\n\x00"))
		if ka := s.Keepalive(); ka.Source != "" || ka.Interval != [2]time.Duration{} {
			t.Errorf("%s: %+v, want no negotiation", hb, ka)
		}
		for _, a := range apps {
			if !slices.Contains(a.Anomalies, "stomp_bad_heart_beat") {
				t.Errorf("%s: %s without stomp_bad_heart_beat", hb, a.Summary)
			}
		}
	}
	s := New(hsProto("v12.stomp"), ModeAuto)
	run(s, c2s("CONNECT\nheart-beat:9223372036854,0\n\n\x00"), s2c("CONNECTED\nheart-beat:0,10000\n\n\x00"))
	if got, want := s.Keepalive().Interval[0], 9223372036854*time.Millisecond; got != want {
		t.Errorf("interval %v, want %v", got, want)
	}
}
