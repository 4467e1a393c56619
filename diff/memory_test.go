package diff

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/wsdump/wsdump/internal/prof"
	"github.com/wsdump/wsdump/wsparse"
)

// TestCollectorBytesPerConn: what diff keeps of a connection (its
// handshake, how it ended, one message each way) is its two items and
// ~48 bytes, its diffConn with its encap (and its entry in a map while it is open): diff holds every connection of A while B's are open (issue
// 16: 100 000 open connections in each). A diffConn allocated for each,
// a slice of items for each direction and a string for each handshake
// kept ~216 bytes besides the items.
func TestCollectorBytesPerConn(t *testing.T) {
	const n = 100_000
	cs := make([]*wsparse.Conn, n)
	for i := range cs {
		cs[i] = &wsparse.Conn{ID: i + 1}
	}
	o := Options{CloseText: closeText}
	d := newCollector(&o, map[Key]bool{})
	data := make([]byte, 1000)
	per := prof.HeapLeftPer(n, func() {
		for i, c := range cs {
			d.Handshake(c, &wsparse.Handshake{Method: "GET", URI: "/x", Status: 101})
			d.Message(c, &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Len: 64, Data: data[:64], Index: 1})
			d.Message(c, &wsparse.Message{Dir: wsparse.ServerToClient, Opcode: wsparse.OpText, Len: 1000, Data: data, Index: 1})
			if i%2 == 0 {
				d.End(c, &wsparse.Summary{End: wsparse.EndOpen})
			}
		}
	})
	items := 2 * float64(unsafe.Sizeof(item{}))
	if limit := items + 80; per > limit {
		t.Errorf("%.0f bytes kept per connection (two items: %.0f), want <= %.0f", per, items, limit)
	}
	if d.count() != 2*n {
		t.Errorf("%d items, want %d", d.count(), 2*n)
	}
	runtime.KeepAlive(cs)
	runtime.KeepAlive(d)
}

// TestRunBytesPerOpenConn: while B's connections are all open (the end of
// a capture of 100 000 open connections, issue 16), Run holds ~42 bytes
// for each (its sketch and its place in openTable) and nothing of A's, not
// the two captures' Collectors (~305 bytes a connection with two
// messages), nor A's sums besides B's sketches (~66).
func TestRunBytesPerOpenConn(t *testing.T) {
	const n = 50_000
	var conns [2][]*wsparse.Conn
	for side := range conns {
		conns[side] = make([]*wsparse.Conn, n)
		for i := range conns[side] {
			conns[side][i] = &wsparse.Conn{ID: i + 1}
		}
	}
	hs := &wsparse.Handshake{Method: "GET", URI: "/x", Status: 101}
	data := make([]byte, 1000)
	msgs := [2]wsparse.Message{
		{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Len: 64, Data: data[:64], Index: 1},
		{Dir: wsparse.ServerToClient, Opcode: wsparse.OpText, Len: 1000, Data: data, Index: 1},
	}
	end := &wsparse.Summary{End: wsparse.EndOpen}
	var before, open runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Run(Options{CloseText: closeText, Twice: true}, func(side int, sink wsparse.Sink, quiet bool) error {
		for _, c := range conns[side] {
			sink.Handshake(c, hs)
			sink.Message(c, &msgs[0])
			sink.Message(c, &msgs[1])
		}
		if side == 1 {
			runtime.GC()
			runtime.ReadMemStats(&open)
		}
		for _, c := range conns[side] {
			sink.End(c, end)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diffs) != 0 || res.Conns != n || res.Compared != 2*n {
		t.Fatalf("%d differences, %d connections, %d compared; want 0, %d, %d", len(res.Diffs), res.Conns, res.Compared, n, 2*n)
	}
	per := float64(int64(open.HeapAlloc)-int64(before.HeapAlloc)) / n
	if per > 56 {
		t.Errorf("%.0f bytes held per connection while B's are open, want <= 56", per)
	}
	runtime.KeepAlive(conns)
}
