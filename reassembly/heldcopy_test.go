package reassembly

import (
	"bytes"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/tlsdec"
)

// TestHeldStartCopyCounted: the chain search of a connection held
// undecided keeps its own copy of the bytes from the offset it tries on,
// up to 3 records (a header of 18 KB whose chain waits for the next
// header): that copy counts in --max-pending-total beside the bytes held.
// 28.5 KB held in 1 448-byte segments, a first header of length 2^14+2048
// and a second, the third not come: with 48 KiB a worker, the held bytes
// (29 KB with their pieces' places) fit and the copy (as many again) does
// not, so the connection is passed on undecided and counted; the default
// total holds it. Before, the copy was counted nowhere: no connection
// over the total, and a held connection took up to about twice its 73 KB.
func TestHeldStartCopyCounted(t *testing.T) {
	for _, total := range []int{0, 48 << 10} { // 0: the default total, room for it
		for _, jobs := range []int{1, 2} {
			c := synth.New("192.0.2.1:40000", "192.0.2.2:443")
			heldCopy(c, 10000)
			opts := Options{}
			opts.Decoder.MaxPendingTotal = total * jobs // (each of -j 2's workers: 48 KiB)
			_, st := run(c.Packets, opts, jobs)
			want := 0
			if total > 0 {
				want = 1
			}
			if st.HeldStartTotalLimit != want {
				t.Errorf("total %d -j %d: held starts over the total %d, want %d", total, jobs, st.HeldStartTotalLimit, want)
			}
		}
	}
}

// heldCopy writes a connection held undecided: the client's first 100
// bytes lost, 30 of a record's tail, a header of length 2^14+2048 and its
// body, and a second such header with n bytes of its body.
func heldCopy(c *synth.Conv, n int) {
	hdr := []byte{0x17, 3, 3, byte(tlsdec.MaxRecord >> 8), byte(tlsdec.MaxRecord & 0xff)}
	c.Open()
	c.Skip(true, 100).Send(true, bytes.Repeat([]byte{0xa5}, 30))
	c.Wait(3 * time.Second)
	c.Segment(false, nil) // (the hole passed over)
	c.Send(true, append(append(append(append([]byte(nil), hdr...), bytes.Repeat([]byte{0xa5}, tlsdec.MaxRecord)...), hdr...), bytes.Repeat([]byte{0xa5}, n)...))
}

// TestHeldStartCopyReleased: the search's copy counted in
// --max-pending-total is given back when the connection is decided, so
// that a second connection on the worker (the same 4-tuple again, the
// first ended) has the room the first had: with 64 KiB a worker each fits
// alone (29 312 bytes held and a copy of 28 672), and would not beside a
// copy still counted. The first decided at its end (no chain: given to
// the WebSocket decoder) or by a chain found (TLS).
func TestHeldStartCopyReleased(t *testing.T) {
	for _, first := range []string{"end", "chain"} {
		for _, jobs := range []int{1, 2} {
			c := synth.New("192.0.2.1:40000", "192.0.2.2:443").ISN(1000, 5000)
			if first == "chain" { // a record of 18 KB, one of 10 bytes and a third header
				hdr := []byte{0x17, 3, 3, byte(tlsdec.MaxRecord >> 8), byte(tlsdec.MaxRecord & 0xff)}
				c.Open()
				c.Skip(true, 100).Send(true, bytes.Repeat([]byte{0xa5}, 30))
				c.Wait(3 * time.Second)
				c.Segment(false, nil)
				c.Send(true, append(append(append(append([]byte(nil), hdr...), bytes.Repeat([]byte{0xa5}, tlsdec.MaxRecord)...), 0x17, 3, 3, 0, 10), make([]byte, 10)...))
				c.Segment(true, []byte{0x17, 3, 3, 0, 10})
			} else {
				heldCopy(c, 10000)
			}
			c.Fin(true).Fin(false)
			pkts := c.Packets
			c2 := synth.New("192.0.2.1:40000", "192.0.2.2:443").ISN(0x40000000, 0x50000000).Wait(time.Minute)
			heldCopy(c2, 10000)
			pkts = append(pkts, c2.Packets...)
			opts := Options{}
			opts.Decoder.MaxPendingTotal = (64 << 10) * jobs
			if _, st := run(pkts, opts, jobs); st.HeldStartTotalLimit != 0 {
				t.Errorf("first decided by its %s, -j %d: held starts over the total %d, want 0", first, jobs, st.HeldStartTotalLimit)
			}
		}
	}
}
