package capture

import (
	"context"
	"io"
	"testing"
)

// countSource yields n empty packets, then io.EOF.
type countSource struct{ n int }

func (s *countSource) Secrets() []Secrets { return nil }
func (s *countSource) Input() string      { return "" }

func (s *countSource) Next() (Packet, error) {
	if s.n == 0 {
		return Packet{}, io.EOF
	}
	s.n--
	return Packet{}, nil
}

func (s *countSource) Close() error { return nil }

// TestInterruptibleStops: the packets before the context ends are read,
// then Next returns ErrInterrupted.
func TestInterruptibleStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := Interruptible(ctx, &countSource{n: 5})
	for i := 0; i < 2; i++ {
		if _, err := src.Next(); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	cancel()
	if _, err := src.Next(); err != ErrInterrupted {
		t.Fatalf("after cancel: %v, want ErrInterrupted", err)
	}
	if Interruptible(context.Background(), src) != src {
		t.Error("a context that never ends wraps the source")
	}
}

// TestOpenInterruptibleGivesWay: a pipe that sends nothing is left when
// the context ends, with ErrInterrupted, not waited on.
func TestOpenInterruptibleGivesWay(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := OpenInterruptible(ctx, pr, "-", nil, 0); err != ErrInterrupted {
		t.Fatalf("OpenInterruptible: %v, want ErrInterrupted", err)
	}
	if !MayBlock(pr) {
		t.Error("MayBlock(pipe) = false")
	}
}
