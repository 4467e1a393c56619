package health

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestOpenConnBytes: what the tracker holds for an open connection is
// what its result takes from the handshake (a connHead); the result
// (Conn, 688 bytes) is made when the connection ends, or by Report. It
// held ~800 bytes an open connection (a Conn from the first record), 80
// MB of `conns` on 100 000 open connections; then 350 (a connState of 256
// bytes with its beat fields and four strings), then 270 (176: the beat
// fields made at the first beat or Close, the strings one with lengths),
// now 254 (160: the status in 32 bits, in the padding after the lengths).
func TestOpenConnBytes(t *testing.T) {
	const n = 10000
	views := make([]*wsparse.Conn, n)
	hss := make([]*wsparse.Handshake, n)
	for i := range views {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(1024+i))
		views[i] = wsparse.NewView(i+1, [2]netip.AddrPort{client, netip.MustParseAddrPort("10.0.0.2:80")})
		hss[i] = &wsparse.Handshake{RequestTS: at(i), TS: at(i + 1), Method: "GET", URI: "/echo/123/abcd/websocket?sid=x",
			Host: "example.test", Status: 101, Subprotocol: "v12.stomp"}
	}
	msg := &wsparse.Message{Dir: wsparse.ClientToServer, TS: at(n + 5), Opcode: wsparse.OpText, Data: []byte("hello"), Len: 5, Frames: 1}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := New(nil, Options{})
	for i, c := range views {
		tr.Handshake(c, hss[i])
		tr.Message(c, msg)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(hss)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("%.0f bytes per open connection", per)
	if per > 262 {
		t.Errorf("%.0f bytes per open connection", per)
	}
	// The results are the same: made by Report from what was kept.
	r := tr.Report()
	if len(r.Conns) != n {
		t.Fatalf("%d connections", len(r.Conns))
	}
	c := r.Conns[n-1]
	if c.ID != n || c.Client != views[n-1].Client() || c.Host != "example.test" || c.Status != 101 || c.Subprotocol != "v12.stomp" ||
		c.Path != "/echo/*/*/websocket" || c.Session != "abcd" || !c.Start.Equal(at(n-1)) || !c.End.Equal(at(n)) || c.Ended {
		t.Errorf("connection %+v", c)
	}
	runtime.KeepAlive(views)
	runtime.KeepAlive(hss)
}
