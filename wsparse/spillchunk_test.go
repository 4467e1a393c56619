package wsparse

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// dataSink is a logSink that keeps the messages' bytes whole.
type dataSink struct {
	logSink
	data [][]byte
}

func (s *dataSink) Message(c *Conn, m *Message) {
	s.logSink.Message(c, m)
	s.data = append(s.data, bytes.Clone(m.Data))
}

// TestSpillChunks: a message over spillMax at rest between its fragments
// holds in memory only the bytes since its last chunk in the spill file
// (fewer than chunkMin), each fragment's bytes are written once, not the
// message so far at each fragment, and it is read back whole once: the
// records are those of a message kept in memory. 400 connections each in
// the middle of a 1.5 MB message held 653 MB.
func TestSpillChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 125))
	msg := make([]byte, 300_000)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	// 30 fragments of 10 000 bytes, then 1-byte fragments (each a tail
	// under chunkMin, kept in memory), then the last.
	var frags [][]byte
	for i := 0; i < 290_000; i += 10_000 {
		frags = append(frags, msg[i:i+10_000])
	}
	for i := 290_000; i < 290_010; i++ {
		frags = append(frags, msg[i:i+1])
	}
	frags = append(frags, msg[290_010:])
	run := func(cfg Config, check func(c *Conn, sent int)) *dataSink {
		s := &dataSink{}
		c := NewConn(1, testClient, testServer, cfg, s)
		c.Feed(0, []byte(upgradeRequest("")), testTime)
		c.Feed(1, []byte(upgradeResponse("")), testTime)
		sent := 0
		for i, f := range frags {
			op := OpContinuation
			if i == 0 {
				op = OpBinary
			}
			c.Feed(1, frame(i == len(frags)-1, 0, op, nil, string(f)), testTime)
			sent += len(f)
			if i < len(frags)-1 && check != nil {
				check(c, sent)
			}
		}
		c.End(testTime)
		return s
	}
	spills.mu.Lock()
	written0, spilled0 := spills.written, spills.spilled
	spills.mu.Unlock()
	held0 := spills.held.Load()
	got := run(Config{SpillAbove: 1}, func(c *Conn, sent int) {
		h := &c.half[1]
		if sent <= spillMax {
			return // spilled whole (park), or not
		}
		if h.msg.spill == 0 && h.msgLen() != sent {
			t.Fatalf("after %d bytes: %d kept", sent, h.msgLen())
		}
		if len(h.msg.Data) >= chunkMin {
			t.Fatalf("after %d bytes: %d in memory, %d in chunks", sent, len(h.msg.Data), sent-len(h.msg.Data))
		}
	})
	spills.mu.Lock()
	written, spilled := spills.written-written0, spills.spilled-spilled0
	spills.mu.Unlock()
	// Up to spillMax, the message so far is written at each fragment
	// (210 000 bytes); past it, each fragment's bytes once: the message
	// so far written at each fragment would be 4.5 MB.
	if written > 2*int64(len(msg)) || spilled < 20 {
		t.Errorf("%d bytes written in %d slots for a message of %d", written, spilled, len(msg))
	}
	if h := spills.held.Load(); h != held0 {
		t.Errorf("%d bytes counted at rest after the end, were %d", h, held0)
	}
	want := run(Config{SpillAbove: -1}, nil)
	if got.String() != want.String() || len(got.data) != 1 || !bytes.Equal(got.data[0], msg) || !bytes.Equal(want.data[0], msg) {
		t.Fatalf("spilled:\n%s\nin memory:\n%s", got, want)
	}
	if SpillError() != nil {
		t.Fatal(SpillError())
	}
}
