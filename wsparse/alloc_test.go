package wsparse

import (
	"strings"
	"testing"
	"time"
)

type nopSink struct{}

func (nopSink) Handshake(*Conn, *Handshake) {}
func (nopSink) Frame(*Conn, *Frame)         {}
func (nopSink) Message(*Conn, *Message)     {}
func (nopSink) End(*Conn, *Summary)         {}

// upgraded returns a Conn past its handshake.
func upgraded(t testing.TB) *Conn {
	c := NewConn(1, testClient, testServer, Config{}, nopSink{})
	c.Feed(0, []byte(upgradeRequest("")), testTime)
	c.Feed(1, []byte(upgradeResponse("")), testTime)
	if !c.IsWebSocket() {
		t.Fatal("no upgrade")
	}
	return c
}

// TestFrameAllocs guards the steady state: frames that fit the buffers a
// direction already has cost no allocation, masked or not, whole or split.
func TestFrameAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race: sync.Pool drops items at random")
	}
	c := upgraded(t)
	client := frame(true, 0, OpText, testMask, strings.Repeat("x", 200))
	server := frame(true, 0, OpBinary, nil, strings.Repeat("y", 1000))
	feed := func() {
		c.Feed(0, client, testTime)
		c.Feed(1, server[:7], testTime)
		c.Feed(1, server[7:], testTime)
	}
	feed()
	if n := testing.AllocsPerRun(100, feed); n != 0 {
		t.Errorf("%v allocations per round of frames", n)
	}
}

func BenchmarkFrames(b *testing.B) {
	c := upgraded(b)
	var stream []byte
	for i := 0; i < 100; i++ {
		stream = append(stream, frame(true, 0, OpBinary, testMask, strings.Repeat("z", 500))...)
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	ts := time.Now()
	for b.Loop() {
		c.Feed(0, stream, ts)
	}
}
