package reassembly

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// fragment writes a WebSocket frame of a fragmented message (fin false:
// more follow), masked from the client.
func fragment(c *synth.Conv, fromClient, fin bool, op wsparse.Opcode, payload []byte) {
	h := wsparse.Header{Fin: fin, Opcode: op, Length: uint64(len(payload))}
	p := append([]byte(nil), payload...)
	if fromClient {
		h.Masked, h.MaskKey = true, [4]byte{1, 2, 3, 4}
		wsparse.Unmask(h.MaskKey, 0, p)
	}
	c.Send(fromClient, append(wsparse.AppendHeader(nil, h), p...))
}

// TestSpillEvicted: connections evicted (--max-connections) while their
// messages are at rest, spilled: parked ones go on with their messages
// read back, those ended past parking report them cut, and a lost segment
// falls in the middle of one; the records are those with nothing spilled,
// with -j 1 and -j 2.
func TestSpillEvicted(t *testing.T) {
	const n = 30
	lost := map[*byte]bool{}
	p := newPhased(n).
		step(func(i int, c *synth.Conv) { c.Open() }).
		step(func(i int, c *synth.Conv) { c.Upgrade() }).
		step(func(i int, c *synth.Conv) {
			fragment(c, true, false, wsparse.OpText, []byte(strings.Repeat(fmt.Sprint(i), 100+i)))
			fragment(c, false, false, wsparse.OpBinary, []byte(strings.Repeat("s", 2000+i)))
		}).
		step(func(i int, c *synth.Conv) {
			fragment(c, true, false, wsparse.OpContinuation, []byte("more"))
			if i%3 == 0 {
				c.Send(false, []byte{0x00}) // the header of the next fragment, lost below
				lost[&c.Packets[len(c.Packets)-1].Data[0]] = true
			}
		}).
		step(func(i int, c *synth.Conv) {
			if i%3 == 0 {
				c.Send(false, []byte{0x80, 3})
				c.Send(false, []byte("end"))
			} else {
				fragment(c, false, true, wsparse.OpContinuation, []byte("end"))
			}
			fragment(c, true, true, wsparse.OpContinuation, []byte("last"))
		}).
		step(func(i int, c *synth.Conv) { c.Fin(true).Fin(false) })
	pkts := p.packets()
	// Lose the segment of the lone header byte: a gap in a message at rest.
	var kept []synth.Packet
	for _, pk := range pkts {
		if lost[&pk.Data[0]] {
			continue
		}
		kept = append(kept, pk)
	}
	for _, max := range []int{8, 20, 100} {
		for _, jobs := range []int{1, 2} {
			before := wsparse.Spilled()
			got, gst := run(kept, Options{MaxConnections: max, Decoder: wsparse.Config{SpillAbove: 1}}, jobs)
			spilled := wsparse.Spilled() - before
			want, wst := run(kept, Options{MaxConnections: max, Decoder: wsparse.Config{SpillAbove: -1}}, jobs)
			if spilled == 0 {
				t.Errorf("max %d -j %d: nothing spilled", max, jobs)
			}
			if max < n && gst.Evicted == 0 {
				t.Errorf("max %d -j %d: nothing evicted", max, jobs)
			}
			if gst != wst {
				t.Errorf("max %d -j %d: stats %+v spilled, %+v not", max, jobs, gst, wst)
			}
			if a, b := strings.Join(got.lines, "\n"), strings.Join(want.lines, "\n"); a != b {
				for i := range min(len(got.lines), len(want.lines)) {
					if got.lines[i] != want.lines[i] {
						t.Fatalf("max %d -j %d: record %d spilled\n%s\nnot spilled\n%s", max, jobs, i, got.lines[i], want.lines[i])
					}
				}
				t.Fatalf("max %d -j %d: %d records spilled, %d not", max, jobs, len(got.lines), len(want.lines))
			}
		}
	}
	if err := wsparse.SpillError(); err != nil {
		t.Fatal(err)
	}
}
