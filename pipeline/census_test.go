package pipeline

import (
	"reflect"
	"testing"
)

// TestCensusExplain: the lines that say why asked connections showed
// nothing: numbers the capture lacks (its numbers as ranges), and
// connections that were not WebSocket.
func TestCensusExplain(t *testing.T) {
	c := NewCensus()
	if got, want := c.Explain([]int{3}), []string{"no connection 3; the capture has no TCP connection"}; !reflect.DeepEqual(got, want) {
		t.Errorf("empty capture: %q, want %q", got, want)
	}
	for _, id := range []int{1, 2, 3, 5} {
		c.seen[id] = ""
	}
	c.seen[2] = "HTTP, not WebSocket: GET /info -> 200"
	got := c.Explain([]int{9, 2, 1})
	want := []string{"no connection 9; the capture has 1-3, 5", "connection 2 is HTTP, not WebSocket: GET /info -> 200"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := c.Explain([]int{1}); !reflect.DeepEqual(got, []string{"no record matched the filters"}) {
		t.Errorf("a WebSocket connection: %q", got)
	}
}
