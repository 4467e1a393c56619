package reassembly

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TestHeldStartOrders: both sides' first bytes lost (the SYNs captured),
// each side's bytes resuming inside a record, in either order and with
// the second side's loss coming after the first side's bytes were held:
// the connection is TLS, each side's loss told, each side's records found
// after the tail of its cut record. Without the second side's loss
// counted as its start (it came while the first side's bytes were held),
// its bytes were taken for no TLS and the connection was not listed.
func TestHeldStartOrders(t *testing.T) {
	rec := func(n int) []byte {
		return append([]byte{0x17, 3, 3, byte(n >> 8), byte(n)}, bytes.Repeat([]byte{0xa5}, n)...)
	}
	tail := func(n int) []byte { return bytes.Repeat([]byte{0xa5}, n) }
	client := append(append(append(tail(30), rec(100)...), rec(50)...), rec(20)...)
	server := append(append(append(tail(40), rec(300)...), rec(40)...), rec(70)...)
	const want = "192.0.2.1:40000->192.0.2.2:443 TLS hello not captured: lost with the first bytes of side 0 (100) and side 1 (200), records counted" +
		" (side 0: records found again by their headers, 30 bytes searched and not decoded; side 1: records found again by their headers, 40 bytes searched and not decoded)"
	for _, serverFirst := range []bool{false, true} {
		for _, wait := range []time.Duration{0, 3 * time.Second} {
			c := synth.New("192.0.2.1:40000", "192.0.2.2:443").Open()
			first, second := true, false
			a, b := client, server
			na, nb := uint32(100), uint32(200)
			if serverFirst {
				first, second, a, b, na, nb = false, true, server, client, 200, 100
			}
			// The first side's tail and one record (no chain yet: held),
			// then the second side's loss and bytes, then the first's
			// other records.
			cut := len(a) - 5 - 20 - 5 - 50
			if serverFirst {
				cut = len(a) - 5 - 40 - 5 - 70
			}
			c.Skip(first, na).Send(first, a[:cut])
			c.Wait(wait)
			c.Segment(second, nil) // (its ACK past the hole: the capture's loss, passed over 2 s on)
			c.Wait(wait)
			c.Skip(second, nb).Send(second, b)
			c.Segment(first, nil) // (the same for the second side's hole)
			c.Wait(wait)
			c.Segment(first, nil)
			c.Send(first, a[cut:])
			tlsRecords(t, "held start", c.Packets, want)
		}
	}
}

// TestHeldStartTotalCounted: a connection whose first bytes after a loss
// at its start are held for the TLS chain search, over --max-pending-total:
// they go to the WebSocket decoder undecided, and the count that stderr
// reports says so (Stats.HeldStartTotalLimit), not 0-RTT early data
// (Stats.EarlyTotalLimit), which there was none of. Before, it was counted
// as early data: "TLS connections' 0-RTT early data was passed on before
// the server accepted it".
func TestHeldStartTotalCounted(t *testing.T) {
	rec := func(n int) []byte {
		return append([]byte{0x17, 3, 3, byte(n >> 8), byte(n)}, bytes.Repeat([]byte{0xa5}, n)...)
	}
	for _, total := range []int{0, 100} { // 0: the default total, room for it
		for _, jobs := range []int{1, 2} {
			c := synth.New("192.0.2.1:40000", "192.0.2.2:443").Open()
			c.Skip(true, 100).Send(true, append(bytes.Repeat([]byte{0xa5}, 30), rec(200)...))
			c.Wait(3 * time.Second)
			c.Segment(false, nil)
			c.Send(true, rec(50))
			opts := Options{}
			opts.Decoder.MaxPendingTotal = total
			_, st := run(c.Packets, opts, jobs)
			want := 0
			if total > 0 {
				want = 1
			}
			if st.HeldStartTotalLimit != want || st.EarlyTotalLimit != 0 {
				t.Errorf("total %d -j %d: held starts over the total %d, want %d; early data over it %d, want 0", total, jobs, st.HeldStartTotalLimit, want, st.EarlyTotalLimit)
			}
		}
	}
}

// tlsBytesSink keeps the TLS records' byte counts and the WebSocket messages.
type tlsBytesSink struct {
	tls      [][2]int64
	messages int
}

func (l *tlsBytesSink) Put(r *record.Record) {
	switch r.Kind {
	case record.TLS:
		l.tls = append(l.tls, r.TLS.Info.Bytes)
	case record.Message:
		l.messages++
	}
}

// TestHeldStartCraftedChain: a plain WebSocket connection whose two
// starts were lost (the upgrade and the 101), whose server then sends a
// binary message holding three TLS-record-like headers, chained, the last
// of length 600: the chain search takes it for TLS (a payload can be
// crafted so; see README, wss: TLS), and the 30 messages after it are in
// that last record. Every byte the server sent after the loss is counted
// in the tls record's server bytes. Before, the 565 bytes of the cut last
// record were counted nowhere (server bytes 52 of 617).
func TestHeldStartCraftedChain(t *testing.T) {
	c := synth.New("192.0.2.1:40000", "192.0.2.2:8080").Open()
	c.Skip(true, 200).Skip(false, 129)
	c.Frame(false, wsparse.OpText, []byte("first message after the loss"))
	c.Frame(false, wsparse.OpBinary, append([]byte("payload:"), 0x17, 3, 3, 0, 1, 'x', 0x17, 3, 3, 0, 1, 'x', 0x17, 3, 3, 2, 0x58))
	c.Wait(3 * time.Second)
	c.Segment(true, nil) // (the server's hole passed over)
	for i := range 30 {
		c.Wait(10 * time.Millisecond)
		c.Frame(false, wsparse.OpText, []byte(fmt.Sprintf("secret message %d", i)))
	}
	var sent int64
	for _, p := range c.Packets[3:] {
		if p.Data[34] == 0x1f { // (from port 8080: the server)
			sent += int64(len(p.Data) - 54)
		}
	}
	for _, jobs := range []int{1, 2} {
		l := &tlsBytesSink{}
		decodeAll(l, c.Packets, Options{}, jobs)
		if len(l.tls) != 1 || l.tls[0] != [2]int64{0, sent} || l.messages != 0 {
			t.Errorf("-j %d: tls records' bytes %v, want [[0 %d]]; %d messages", jobs, l.tls, sent, l.messages)
		}
	}
}

// TestHeldStartPiecesCounted: a connection held for the TLS chain search
// whose lost-start side then sends one-byte segments: each piece held
// costs its bytes and its record (its side, length and time: 40 bytes),
// and both count in --max-pending-total and the hold's own bound. Before,
// only the bytes did: 3 000 one-byte pieces held 3 000 bytes of a 32 KiB
// total and 120 KB of records beside them (a hold's 73 KB bound, 73 728
// such pieces, took 2.9 MB).
func TestHeldStartPiecesCounted(t *testing.T) {
	for _, jobs := range []int{1, 2} {
		c := synth.New("192.0.2.1:40000", "192.0.2.2:443").Open()
		c.Skip(true, 100).Segment(true, []byte{0xa5})
		c.Wait(3 * time.Second)
		c.Segment(false, nil) // (the hole passed over: each piece then comes alone)
		for range 2999 {
			c.Segment(true, []byte{0xa5})
		}
		opts := Options{}
		opts.Decoder.MaxPendingTotal = 32 << 10 * jobs // (each of -j 2's workers: 32 KiB)
		_, st := run(c.Packets, opts, jobs)
		if st.HeldStartTotalLimit != 1 {
			t.Errorf("-j %d: held starts over the total %d, want 1", jobs, st.HeldStartTotalLimit)
		}
	}
}
