package wsparse

import (
	"encoding/hex"
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
			c.ResumedWebSocket(tc.clientSide, false)
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

// FuzzResumedWebSocket: a connection that goes on as WebSocket after it
// was ended early (ResumedWebSocket, with permessage-deflate negotiated
// or not), fed any bytes in any chunks, makes
// exactly one end, marked connection_resumed, last; and every byte fed a
// side is in a frame (wire_bytes, which counts a cut frame whole) or in
// skipped_bytes.
func FuzzResumedWebSocket(f *testing.F) {
	f.Add(frame(true, 0, OpText, testMask, "client 1"), frame(true, 0, OpText, nil, "server 1"), uint8(3), false)
	f.Add([]byte("ayload tail"), cat([]byte{0x81, 0x7e, 0x01}, frame(true, 0, OpClose, nil, "\x03\xe8")), uint8(0), true)
	z := deflateMessages(f, [][]byte{[]byte("client hello"), []byte("server hello")}, false, 6)
	f.Add(frame(true, 4, OpText, testMask, string(z[0])), frame(true, 4, OpText, nil, string(z[1])), uint8(0x82), false)
	f.Fuzz(func(t *testing.T, a, b []byte, step uint8, clientSide1 bool) {
		n, deflated := int(step&0x7f)+1, step&0x80 != 0 // chunk size; negotiated permessage-deflate
		s := &logSink{}
		c := NewConn(1, testClient, testServer, Config{MaxPayload: 1 << 16, MaxMessage: 1 << 16}, s)
		client := 0
		if clientSide1 {
			client = 1
		}
		c.ResumedWebSocket(client, deflated)
		for i := 0; i < len(a) || i < len(b); i += n {
			if i < len(a) {
				c.Feed(0, a[i:min(i+n, len(a))], testTime)
			}
			if i < len(b) {
				c.Feed(1, b[i:min(i+n, len(b))], testTime)
			}
		}
		c.End(testTime)
		ends := 0
		for _, l := range s.lines {
			if strings.HasPrefix(l, "E ") {
				ends++
			}
		}
		if ends != 1 || !strings.HasPrefix(s.lines[len(s.lines)-1], "E ") || s.sum.Anomalies&AnomResumed == 0 {
			t.Fatalf("%d ends, anomalies %s:\n%s", ends, s.sum.Anomalies, s)
		}
		fed := [2]int{len(a), len(b)} // by side
		for side, n := range fed {
			st := s.sum.Stats[c.dirOf(side)]
			if st.WireBytes+st.SkippedBytes < uint64(n) {
				t.Fatalf("side %d: %d bytes fed, %d in frames, %d skipped:\n%s", side, n, st.WireBytes, st.SkippedBytes, s)
			}
		}
	})
}

// TestResumedWebSocketDeflated: a connection that negotiated
// permessage-deflate goes on (ResumedWebSocket, deflated): one compressed
// message each way, or three, is found and inflated. Before, a compressed
// chain needed four frames, as for a connection found mid-stream: the
// messages were skipped (skipped_bytes), and most browsers' connections
// compress. Without deflated (not negotiated, or found mid-stream) it
// still does.
func TestResumedWebSocketDeflated(t *testing.T) {
	msgs := deflateMessages(t, [][]byte{[]byte("client hello"), []byte("server hello")}, false, 6)
	for _, tc := range []struct {
		n        int
		deflated bool
		messages int
	}{{1, true, 2}, {3, true, 6}, {1, false, 0}, {3, false, 0}} {
		s := &logSink{}
		c := NewConn(1, testClient, testServer, Config{}, s)
		c.ResumedWebSocket(0, tc.deflated)
		var a, b []byte
		for range tc.n {
			a = append(a, frame(true, 4, OpText, testMask, string(msgs[0]))...)
			b = append(b, frame(true, 4, OpText, nil, string(msgs[1]))...)
		}
		c.Feed(0, a, testTime)
		c.Feed(1, b, testTime)
		c.End(testTime)
		got := 0
		for _, l := range s.lines {
			if strings.HasPrefix(l, "M ") && (strings.HasSuffix(l, " data="+hex.EncodeToString([]byte("client hello"))+" compressed=true anomalies=") ||
				strings.HasSuffix(l, " data="+hex.EncodeToString([]byte("server hello"))+" compressed=true anomalies=")) {
				got++
			}
		}
		if got != tc.messages {
			t.Errorf("%d compressed message(s) a side, deflated %v: %d inflated, want %d\n%s", tc.n, tc.deflated, got, tc.messages, s)
		}
	}
}
