package wsparse

import (
	"encoding/binary"
	"math/rand"
	"strings"
	"testing"
)

// wsFrames returns the frame records of a log, per direction.
func wsFrames(lines []string) (c2s, s2c []string) {
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "F c2s"):
			c2s = append(c2s, l[strings.Index(l, " fin="):])
		case strings.HasPrefix(l, "F s2c"):
			s2c = append(s2c, l[strings.Index(l, " fin="):])
		}
	}
	return
}

// sessionStreams is a WebSocket session after its handshake: text, binary,
// pings and fragments both ways, sent as a capture would show them.
func sessionStreams() (client, server [][]byte) {
	rng := rand.New(rand.NewSource(7))
	blob := make([]byte, 600)
	rng.Read(blob)
	for i := 0; i < 12; i++ {
		client = append(client, frame(true, 0, OpText, testMask, `{"op":"publish","seq":`+strings.Repeat("7", i)+`}`))
		server = append(server, frame(true, 0, OpText, nil, `{"op":"ack","seq":`+strings.Repeat("7", i)+`}`))
		if i%4 == 0 {
			client = append(client, frame(true, 0, OpPing, testMask, "hb"))
			server = append(server, frame(true, 0, OpPong, nil, "hb"))
		}
		if i%5 == 0 {
			server = append(server, cat(frame(false, 0, OpBinary, nil, string(blob)), frame(true, 0, OpContinuation, nil, "tail")))
		}
	}
	return client, server
}

func TestSniffMidStream(t *testing.T) {
	client, server := sessionStreams()
	full := &logSink{}
	ref := NewConn(1, testClient, testServer, Config{}, full)
	ref.Feed(0, []byte(upgradeRequest("")), testTime)
	ref.Feed(1, []byte(upgradeResponse("")), testTime)
	feedBoth(ref, client, server)
	ref.End(testTime)
	wantC, wantS := wsFrames(full.lines)

	// Start the capture at every offset of the first few segments.
	bogus, tries := 0, 0
	for skip := 0; skip < len(client[0])+len(client[1]); skip++ {
		tries += 2
		s := &logSink{}
		c := NewConn(1, testClient, testServer, Config{}, s)
		// Feed segment by segment, as a capture that began skip bytes
		// into each side's stream.
		feedBoth(c, dropPrefix(client, skip), dropPrefix(server, skip))
		c.End(testTime)
		gotC, gotS := wsFrames(s.lines)
		if len(gotC) == 0 || len(gotS) == 0 {
			t.Fatalf("skip %d: nothing recognised:\n%s", skip, s)
		}
		// Starting inside a payload, a chain can begin with a frame made of
		// the payload's last bytes and merge into the true frames after it:
		// the bytes alone cannot tell. Allow that for the first frame only,
		// and count it.
		for _, d := range []struct{ got, want []string }{{gotC, wantC}, {gotS, wantS}} {
			if suffix(d.got, d.want) {
				continue
			}
			if !suffix(d.got[1:], d.want) {
				t.Fatalf("skip %d: frames are not a suffix of the full decode\n%s", skip, s)
			}
			bogus++
			t.Logf("skip %d: bogus %s", skip, d.got[0])
		}
		if len(gotC) < len(wantC)-2 {
			t.Errorf("skip %d: only %d of %d client frames", skip, len(gotC), len(wantC))
		}
		last := s.lines[len(s.lines)-1]
		if !strings.Contains(last, "E end=open") {
			t.Errorf("skip %d: %s", skip, last)
		}
	}
	if bogus*10 > tries {
		t.Errorf("a bogus first frame in %d of %d starts", bogus, tries)
	}
	t.Logf("a bogus first frame in %d of %d starts", bogus, tries)

	// The summary says how it was recognised.
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{}, s)
	feedBoth(c, client, server)
	c.End(testTime)
	if c.Client() != testClient || s.sum.Confidence != ConfidenceHigh || s.sum.Handshake != nil {
		t.Errorf("client %v confidence %q", c.Client(), s.sum.Confidence)
	}
}

// dropPrefix removes the first n bytes from a list of segments.
func dropPrefix(segs [][]byte, n int) [][]byte {
	var out [][]byte
	for _, seg := range segs {
		switch {
		case n >= len(seg):
			n -= len(seg)
		case n > 0:
			out = append(out, seg[n:])
			n = 0
		default:
			out = append(out, seg)
		}
	}
	return out
}

// feedBoth feeds two sides' segments alternately.
func feedBoth(c *Conn, client, server [][]byte) {
	for i := 0; i < len(client) || i < len(server); i++ {
		if i < len(client) {
			c.Feed(0, client[i], testTime)
		}
		if i < len(server) {
			c.Feed(1, server[i], testTime)
		}
	}
}

func suffix(got, want []string) bool {
	if len(got) > len(want) {
		return false
	}
	for i := range got {
		if got[len(got)-1-i] != want[len(want)-1-i] {
			return false
		}
	}
	return true
}

// nonWebSocket generates streams of protocols that are not WebSocket but
// share its habits: length prefixes, binary headers, text lines.
func nonWebSocket(rng *rand.Rand, kind int) [][]byte {
	var segs [][]byte
	for i := 0; i < 60; i++ {
		var b []byte
		switch kind {
		case 0: // random bytes
			b = make([]byte, 1+rng.Intn(1500))
			rng.Read(b)
		case 1: // length-prefixed strings (MQTT, Java serialisation, ...)
			for j := 0; j < 1+rng.Intn(5); j++ {
				s := make([]byte, rng.Intn(40))
				rng.Read(s)
				b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
				b = append(b, s...)
			}
		case 2: // PostgreSQL-like messages: type byte, int32 length
			typ := "DTCZRSK"[rng.Intn(7)]
			body := make([]byte, rng.Intn(200))
			rng.Read(body)
			b = append([]byte{typ}, binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))...)
			b = append(b, body...)
		case 3: // TLS application data records mid-stream
			body := make([]byte, 16+rng.Intn(1400))
			rng.Read(body)
			b = append([]byte{0x17, 0x03, 0x03}, binary.BigEndian.AppendUint16(nil, uint16(len(body)))...)
			b = append(b, body...)
		case 4: // SSH binary packets: uint32 length, padding length, payload
			body := make([]byte, 8*(2+rng.Intn(40)))
			rng.Read(body)
			b = binary.BigEndian.AppendUint32(nil, uint32(len(body)))
			b = append(b, body...)
		case 5: // zeros and small integers
			b = make([]byte, 1+rng.Intn(64))
			for j := range b {
				b[j] = byte(rng.Intn(3))
			}
		}
		segs = append(segs, b)
	}
	return segs
}

func TestSniffRejectsOtherProtocols(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(42))
	for kind := 0; kind < 6; kind++ {
		for trial := 0; trial < 40; trial++ {
			a, b := nonWebSocket(rng, kind), nonWebSocket(rng, kind)
			// Start mid-stream too: drop a random prefix.
			a[0] = a[0][rng.Intn(len(a[0])):]
			s := &logSink{}
			c := NewConn(1, testClient, testServer, Config{}, s)
			for i := range a {
				c.Feed(0, a[i], testTime)
				c.Feed(1, b[i], testTime)
			}
			c.End(testTime)
			if len(s.lines) != 0 {
				t.Fatalf("kind %d trial %d: taken for WebSocket:\n%s", kind, trial, s)
			}
		}
	}
}

func TestSniffForced(t *testing.T) {
	// One frame each way is enough when the user forces the port.
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{}, s)
	c.Force(1)
	c.Feed(0, frame(true, 0, OpText, testMask, "hi"), testTime)
	c.Feed(1, frame(true, 0, OpText, nil, "yo"), testTime)
	c.End(testTime)
	checkPrefixes(t, s.lines, []string{"F c2s #1 fin=true rsv=0 op=text", "M c2s", "F s2c #1 fin=true rsv=0 op=text", "M s2c", "E end=open"})
	if s.sum.Confidence != ConfidenceForced {
		t.Errorf("confidence %q", s.sum.Confidence)
	}
	// Without forcing, one frame each way is not enough evidence.
	s = &logSink{}
	c = NewConn(1, testClient, testServer, Config{}, s)
	c.Feed(0, frame(true, 0, OpText, testMask, "hi"), testTime)
	c.Feed(1, frame(true, 0, OpText, nil, "yo"), testTime)
	c.End(testTime)
	if len(s.lines) != 0 {
		t.Errorf("two frames taken as proof:\n%s", s)
	}
}

func TestGapResync(t *testing.T) {
	_, server := sessionStreams()
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{}, s)
	c.Feed(0, []byte(upgradeRequest("")), testTime)
	c.Feed(1, []byte(upgradeResponse("")), testTime)
	for i := range server {
		if i == 3 {
			// Lose a segment holding two frame headers.
			c.Gap(1, len(server[i]), testTime)
			continue
		}
		c.Feed(1, server[i], testTime)
	}
	c.End(testTime)
	_, s2c := wsFrames(s.lines)
	if len(s2c) < len(server)-4 {
		t.Fatalf("only %d frames after the gap:\n%s", len(s2c), s)
	}
	last := s.lines[len(s.lines)-1]
	if !strings.Contains(last, "Resyncs:1") || !strings.Contains(last, "LostBytes:"+itoa(len(server[3]))) {
		t.Errorf("summary: %s", last)
	}
}

func FuzzSniff(f *testing.F) {
	client, server := sessionStreams()
	f.Add(cat(client...), cat(server...), uint8(100))
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1, 0x81, 0x02}, []byte{0, 0, 0, 0}, uint8(3))
	f.Fuzz(func(t *testing.T, a, b []byte, step uint8) {
		n := int(step) + 1
		c := NewConn(1, testClient, testServer, Config{}, &logSink{})
		for i := 0; i < len(a) || i < len(b); i += n {
			if i < len(a) {
				c.Feed(0, a[i:min(i+n, len(a))], testTime)
			}
			if i == n {
				c.Gap(0, 7, testTime)
			}
			if i < len(b) {
				c.Feed(1, b[i:min(i+n, len(b))], testTime)
			}
		}
		c.End(testTime)
	})
}
