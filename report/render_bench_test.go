package report

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// renderRecords is a record stream like the load capture's: 48
// connections open at once, their frames interleaved, each text frame of
// a JSON message of 60 to 300 bytes followed by its message record.
func renderRecords() []record.Record {
	r := rand.New(rand.NewPCG(13, 14))
	conns := make([]*wsparse.Conn, 48)
	for i := range conns {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(40000+i))
		if i%3 == 0 {
			client = netip.AddrPortFrom(netip.IPv6Loopback(), uint16(40000+i))
		}
		conns[i] = wsparse.NewView(i+1, [2]netip.AddrPort{client, netip.AddrPortFrom(client.Addr(), 48000)})
	}
	ts := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	var recs []record.Record
	idx := map[*wsparse.Conn]int{}
	for range 4000 {
		c := conns[r.IntN(len(conns))]
		idx[c]++
		ts = ts.Add(time.Duration(r.IntN(200)) * time.Microsecond)
		p := []byte(fmt.Sprintf(`{"type":"event","seq":%d,"user":"judy","event":"logout","ts":%d,"pad":"`, idx[c], ts.UnixMilli()))
		for n := 60 + r.IntN(240); len(p) < n; {
			p = append(p, byte('a'+r.IntN(26)))
		}
		p = append(p, `"}`...)
		dir := wsparse.Dir(r.IntN(2))
		f := &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Masked: dir == 0, MaskKey: [4]byte{1, 2, 3, 4}, Length: uint64(len(p)), Size: 6},
			Dir: dir, TS: ts, Index: idx[c], MessageOpcode: wsparse.OpText, Payload: p}
		m := &wsparse.Message{Dir: dir, Opcode: wsparse.OpText, TS: ts, Frames: 1, Len: uint64(len(p)), WireLen: uint64(len(p)), Data: p, Index: idx[c]}
		recs = append(recs, record.Record{Kind: record.Frame, Conn: c, Frame: f}, record.Record{Kind: record.Message, Conn: c, Message: m, Decoded: true})
	}
	return recs
}

// BenchmarkRender: frame and message records through each record view.
func BenchmarkRender(b *testing.B) {
	recs := renderRecords()
	for _, v := range []struct {
		name string
		opts Options
	}{{"jsonl", Options{Format: "jsonl"}}, {"table", Options{}}, {"table-messages", Options{Messages: true}}} {
		b.Run(v.name, func(b *testing.B) {
			e, err := New(io.Discard, v.opts)
			if err != nil {
				b.Fatal(err)
			}
			s := e.(record.Sink)
			b.ReportAllocs()
			for b.Loop() {
				for i := range recs {
					s.Put(&recs[i])
				}
			}
		})
	}
}
