package wsparse

import (
	"strings"
	"testing"
)

// TestResumedWebSocket: a connection that was WebSocket before it was
// ended early goes on (ResumedWebSocket): its bytes are decoded afresh as
// WebSocket, the client known, and reported whatever they hold. One whole
// frame a side is enough; bytes before the first frame found (the tail of
// a payload) and bytes in which none is found are counted in
// skipped_bytes; the end is marked connection_resumed. Fed to a plain
// Conn with Resumed, the lone frames were not found at all: no record.
func TestResumedWebSocket(t *testing.T) {
	tail := "ayload whose header came before the resume"
	for _, tc := range []struct {
		name             string
		clientSide       int
		side0, side1     []byte
		frames, messages int
		skipped          [2]uint64 // c2s, s2c
	}{
		{"one frame each way", 0, frame(true, 0, OpText, testMask, "client 1"), frame(true, 0, OpText, nil, "server 1"), 2, 2, [2]uint64{}},
		{"one frame each way, client side 1", 1, frame(true, 0, OpText, nil, "server 1"), frame(true, 0, OpText, testMask, "client 1"), 2, 2, [2]uint64{}},
		{"server frame alone", 0, nil, frame(true, 0, OpText, nil, "server 1"), 1, 1, [2]uint64{}},
		{"client ping alone", 0, frame(true, 0, OpPing, testMask, "p"), nil, 1, 0, [2]uint64{}},
		{"payload tail, then a frame", 0, nil, cat([]byte(tail), frame(true, 0, OpText, nil, "server 1")), 1, 1, [2]uint64{0, uint64(len(tail))}},
		{"no frame found", 0, []byte{0xff, 0xff, 0xff, 0xff, 0xff}, nil, 0, 0, [2]uint64{5, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &logSink{}
			c := NewConn(1, testClient, testServer, Config{}, s)
			c.ResumedWebSocket(tc.clientSide)
			c.Feed(0, tc.side0, testTime)
			c.Feed(1, tc.side1, testTime)
			c.End(testTime)
			frames, messages := 0, 0
			for _, l := range s.lines {
				switch l[0] {
				case 'F':
					frames++
				case 'M':
					messages++
				}
			}
			sum := s.sum
			if frames != tc.frames || messages != tc.messages || len(s.lines) == 0 || !strings.HasPrefix(s.lines[len(s.lines)-1], "E ") {
				t.Errorf("%d frames, %d messages, want %d, %d, and an end", frames, messages, tc.frames, tc.messages)
			}
			if sum.Anomalies&AnomResumed == 0 || sum.End != EndOpen {
				t.Errorf("end %s, anomalies %s: want open, connection_resumed", sum.End, sum.Anomalies)
			}
			if got := [2]uint64{sum.Stats[0].SkippedBytes, sum.Stats[1].SkippedBytes}; got != tc.skipped {
				t.Errorf("skipped_bytes %v, want %v", got, tc.skipped)
			}
			if c.Client() != testClient && tc.clientSide == 0 || c.Client() != testServer && tc.clientSide == 1 {
				t.Errorf("client %s", c.Client())
			}
			if t.Failed() {
				t.Logf("%s", s)
			}
		})
	}
}
