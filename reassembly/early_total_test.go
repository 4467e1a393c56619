package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/tlsdec"
)

// earlyConns is n TLS connections, one after the other (every apart, from
// 10.0.0.1 on), each a client's first flight with 64 KiB of 0-RTT early
// data that no answer decides, closed by FIN both ways if fin, and the key
// log of their early secrets.
func earlyConns(t *testing.T, n int, every time.Duration, fin bool) ([]synth.Packet, *tlsdec.KeyLog) {
	t.Helper()
	secret := make([]byte, 32)
	var pkts []synth.Packet
	var log strings.Builder
	for i := range n {
		var random [32]byte
		random[0], random[1] = byte(i), 0xe0
		data := []byte(strings.Repeat(fmt.Sprintf("early %d ", i), 8192))[:64<<10]
		c := synth.New(fmt.Sprintf("10.0.0.%d:40000", i+1), "192.0.2.2:443")
		c.Wait(time.Duration(i) * every)
		c.Open().Send(true, synth.TLSEarly(random, secret, data, 16<<10))
		if fin {
			c.Fin(true).Fin(false)
		}
		pkts = append(pkts, c.Packets...)
		log.WriteString(synth.TLSEarlyKeyLine(random, secret))
	}
	keys, err := tlsdec.ParseKeyLog(strings.NewReader(log.String()))
	if err != nil {
		t.Fatal(err)
	}
	return pkts, keys
}

// TestEarlyDataInPendingTotal: the 0-RTT early data a TLS connection holds
// until the server's answer counts in --max-pending-total: with room for
// three connections' 64 KiB, the other five pass theirs on at once
// (Stats.EarlyTotalLimit); -j 2, each worker with half of twice that,
// holds at most three each. Held or not, every connection's early data is
// passed on and its error says no answer was seen. Until session 37 each
// held up to 256 KiB, with no total: 1 280 connections held 320 MB.
func TestEarlyDataInPendingTotal(t *testing.T) {
	pkts, keys := earlyConns(t, 8, time.Millisecond, false)
	for _, tc := range []struct {
		total, jobs, over int // over: exactly (-j 1), at least (-j 2)
	}{{0, 1, 0}, {200 << 10, 1, 5}, {400 << 10, 2, 2}} {
		opts := Options{Keys: keys}
		opts.Decoder.MaxPendingTotal = tc.total
		l, st := run(pkts, opts, tc.jobs)
		said := l.count("tls the server's answer to the client's 0-RTT early data was not seen: 65536 bytes passed on as sent")
		if over := st.EarlyTotalLimit; tc.jobs == 1 && over != tc.over || over < tc.over || over > 5 && tc.over > 0 || said != 8 {
			t.Errorf("total %d -j %d: %d connections past the total, want %d:\n%s", tc.total, tc.jobs, over, tc.over, strings.Join(l.lines, "\n"))
		}
	}
}
