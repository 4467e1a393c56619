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
// ~40 bytes (and its entry in a map while it is open): diff holds every connection of A while B's are open (issue
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
