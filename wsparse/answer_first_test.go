package wsparse

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// tsSink is a logSink that also notes each frame's time.
type tsSink struct {
	logSink
	times []string
}

func (s *tsSink) Frame(c *Conn, f *Frame) {
	s.logSink.Frame(c, f)
	s.times = append(s.times, fmt.Sprintf("%s%d@%d", f.Dir, f.Index, f.TS.Sub(testTime)/time.Millisecond))
}

// A 101 captured before any byte of its request (a tap that merges the
// two directions, queues timestamped apart) is read after the request
// when the client's bytes open one: the same frames, messages and
// handshake as in the connection's order, flagged answer_before_request,
// each frame at its own time. Until session 35 the request was read as
// frames: "GET /chat HTTP/1.1..." gave a reserved opcode and every client
// frame after it was misread.
func TestAnswerBeforeRequest(t *testing.T) {
	cf := cat(frame(true, 0, OpText, testMask, "hello"), frame(true, 0, OpText, testMask, "world"))
	sf1, sf2 := frame(true, 0, OpText, nil, "HELLO"), frame(true, 0, OpText, nil, "WORLD")
	req, resp := upgradeRequest(""), upgradeResponse("")
	at := func(ms int) time.Time { return testTime.Add(time.Duration(ms) * time.Millisecond) }
	run := func(feed func(c *Conn)) *tsSink {
		s := &tsSink{}
		c := NewConn(1, testClient, testServer, Config{}, s)
		feed(c)
		c.End(at(100))
		return s
	}
	inOrder := run(func(c *Conn) {
		c.Feed(0, []byte(req), at(1))
		c.Feed(1, cat([]byte(resp), sf1), at(2))
		c.Feed(1, sf2, at(3))
		c.Feed(0, cf, at(4))
	})
	frames := func(s *tsSink) string { // the frames and messages
		return strings.Join(s.lines[1:len(s.lines)-1], "\n")
	}
	for _, tc := range []struct {
		name string
		feed func(c *Conn)
	}{
		{"request after", func(c *Conn) {
			c.Feed(1, cat([]byte(resp), sf1), at(2))
			c.Feed(1, sf2, at(3))
			c.Feed(0, []byte(req), at(1))
			c.Feed(0, cf, at(4))
		}},
		{"request and frames in one", func(c *Conn) {
			c.Feed(1, []byte(resp), at(2))
			c.Feed(1, sf1, at(2))
			c.Feed(1, sf2, at(3))
			c.Feed(0, cat([]byte(req), cf), at(4))
		}},
		{"request in pieces", func(c *Conn) {
			c.Feed(1, cat([]byte(resp), sf1), at(2))
			c.Feed(1, sf2, at(3))
			c.Feed(0, []byte(req[:2]), at(1))
			c.Feed(0, []byte(req[2:40]), at(1))
			c.Feed(0, []byte(req[40:]), at(1))
			c.Feed(0, cf, at(4))
		}},
	} {
		s := run(tc.feed)
		if got, want := frames(s), frames(inOrder); got != want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, want)
		}
		if got, want := s.lines[0], "H status=101 accept_valid=true sub=\"\" ext=\"\" deflate=false anomalies=answer_before_request"; got != want {
			t.Errorf("%s: handshake %s, want %s", tc.name, got, want)
		}
		if tc.name == "request after" {
			if got, want := strings.Join(s.times, " "), "s2c1@2 s2c2@3 c2s1@4 c2s2@4"; got != want {
				t.Errorf("%s: frame times %s, want %s", tc.name, got, want)
			}
		}
	}
	// A request that asked for no upgrade, answered (in the capture before
	// it) by a 101 to websocket: as in the connection's order.
	s := run(func(c *Conn) {
		c.Feed(1, cat([]byte(resp), sf1), at(2))
		c.Feed(0, cat([]byte("GET /chat HTTP/1.1\r\nHost: x\r\n\r\n"), cf), at(1))
	})
	if got, want := s.lines[0], "H status=101 accept_valid=false sub=\"\" ext=\"\" deflate=false anomalies=upgrade_not_requested,answer_before_request"; got != want || s.sum.Stats[0].Frames != 2 {
		t.Errorf("not requested: %s, %d client frames; want %s, 2\n%s", got, s.sum.Stats[0].Frames, want, s)
	}
}

// Where the client's bytes open no request (it was sent before the
// capture began, or lost), or none come, the held 101 is believed as it
// stood (request_incomplete) and every byte of both sides is decoded as
// it was before session 35.
func TestAnswerWithoutRequest(t *testing.T) {
	cf := cat(frame(true, 0, OpText, testMask, "hello"), frame(true, 0, OpText, testMask, "world"))
	sf := cat(frame(true, 0, OpText, nil, "HELLO"), frame(true, 0, OpText, nil, "WORLD"))
	resp := []byte(upgradeResponse(""))
	big := frame(true, 0, OpBinary, nil, strings.Repeat("x", heldAnswerMax))
	for _, tc := range []struct {
		name           string
		feed           func(c *Conn)
		c2s, s2c, lost int
	}{
		{"client frames", func(c *Conn) {
			c.Feed(1, cat(resp, sf), testTime)
			c.Feed(0, cf, testTime)
		}, 2, 2, 0},
		{"client silent", func(c *Conn) { c.Feed(1, cat(resp, sf), testTime) }, 0, 2, 0},
		{"client gap", func(c *Conn) {
			c.Feed(1, cat(resp, sf), testTime)
			c.Gap(0, 7, testTime)
			c.Feed(0, cf, testTime)
		}, 0, 2, 7}, // too few frames after the gap to find them again
		{"server goes on", func(c *Conn) {
			c.Feed(1, cat(resp, sf), testTime)
			c.Feed(1, big, testTime)
			c.Feed(0, cf, testTime)
		}, 2, 3, 0},
		{"server later", func(c *Conn) {
			c.Feed(1, resp, testTime)
			c.Feed(1, sf, testTime.Add(2*heldAnswerFor))
			c.Feed(0, cf, testTime.Add(2*heldAnswerFor))
		}, 2, 2, 0},
	} {
		s := &logSink{}
		c := NewConn(1, testClient, testServer, Config{}, s)
		tc.feed(c)
		c.End(testTime)
		st := s.sum.Stats
		got := fmt.Sprintf("%s; c2s %d frames, %d lost; s2c %d frames", s.sum.Anomalies, st[0].Frames, st[0].LostBytes, st[1].Frames)
		want := fmt.Sprintf("request_incomplete; c2s %d frames, %d lost; s2c %d frames", tc.c2s, tc.lost, tc.s2c)
		if got != want {
			t.Errorf("%s: got %s, want %s\n%s", tc.name, got, want, s)
		}
	}
}

// Held 101s count in the bytes held before upgrades (MaxPendingTotal)
// and give them back when read: a 101 that would pass the total is
// believed at once, as before session 35.
func TestAnswerHeldInTotal(t *testing.T) {
	resp := cat([]byte(upgradeResponse("")), frame(true, 0, OpText, nil, "HELLO"))
	req := []byte(upgradeRequest(""))
	sh := NewShared(Config{MaxPendingTotal: 2*len(resp) + 10}, &logSink{})
	var cs []*Conn
	for i := range 3 {
		c := sh.NewConn(i+1, testClient, testServer)
		c.Feed(1, resp, testTime)
		cs = append(cs, c)
		if want := min(i+1, 2) * len(resp); sh.pendingHeld != want {
			t.Fatalf("%d 101s fed: %d bytes held in all, want %d", i+1, sh.pendingHeld, want)
		}
	}
	if cs[2].ex != nil && cs[2].ex.held != nil {
		t.Errorf("the third 101, past the total, was held")
	}
	cs[0].Feed(0, req, testTime) // read after its request
	cs[1].End(testTime)          // believed at the end
	if sh.pendingHeld != 0 {
		t.Errorf("%d bytes still held in all after the 101s were read", sh.pendingHeld)
	}
}
