package health

import (
	"net/netip"
	"strconv"
	"testing"
	"unsafe"

	"github.com/wsdump/wsdump/wsparse"
)

// TestConnInputKept: a connection's input (wsparse.Conn.Input: the file it
// began in, of several read merged) reaches its result, up to the 24-bit
// MaxInput, whichever way the tracker keeps it: its head until Report, its
// head with the end packed in it or its packed result (FinishAtEnd, as
// conns reads), its head made at its end (HeadsAtEnd). Report.File names
// it by Report.Files. The head stays 56 bytes (the input in the room of
// the times' four bools).
func TestConnInputKept(t *testing.T) {
	inputs := []int{0, 1, 70000, wsparse.MaxInput - 1, wsparse.MaxInput}
	for _, mode := range []string{"Report", "FinishAtEnd", "HeadsAtEnd"} {
		tr := New(nil, Options{})
		switch mode {
		case "FinishAtEnd":
			tr.FinishAtEnd()
		case "HeadsAtEnd":
			tr.HeadsAtEnd()
		}
		for i, in := range inputs {
			c := wsparse.NewConn(i+1, netip.MustParseAddrPort("10.0.0.1:"+strconv.Itoa(4000+i)), server80, wsparse.Config{}, nil)
			c.SetInput(in)
			hs := &wsparse.Handshake{RequestTS: at(100 * i), TS: at(100*i + 1), Method: "GET", URI: "/feed", Host: "example.test", Status: 101}
			tr.Handshake(c, hs)
			(&conv{t: tr, c: c, hs: hs}).end(100*i+50, wsparse.EndClean, byClient(100*i+40), 0, 0)
		}
		var r *Report
		if mode == "FinishAtEnd" {
			r = tr.ReportEach()
		} else {
			r = tr.Report()
		}
		r.Files = []string{"a.pcap", "b.pcap"}
		if r.Len() != len(inputs) {
			t.Fatalf("%s: %d connections", mode, r.Len())
		}
		for i := range r.Len() {
			c := r.Conn(i)
			if want := inputs[c.ID-1]; int(c.Input) != want {
				t.Errorf("%s: conn %d: input %d, want %d", mode, c.ID, c.Input, want)
			}
			want := ""
			if c.Input < 2 {
				want = r.Files[c.Input]
			}
			if got := r.File(c); got != want {
				t.Errorf("%s: conn %d: File %q, want %q", mode, c.ID, got, want)
			}
		}
	}
	if n := unsafe.Sizeof(connHead{}); n != 56 {
		t.Errorf("connHead is %d bytes, was 56", n)
	}
}
