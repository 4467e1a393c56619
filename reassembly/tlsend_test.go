package reassembly

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestTLSEndCountsRecordCut: a TLS connection whose last record of a side
// is cut, by the connection's end (FIN, RST) or the capture's, counts
// every byte each side sent in its tls record: a ClientHello cut 5 bytes
// before its end (arkime_synthetic's connection 32: client_bytes 0 of 69
// sent), and a session captured after its handshake whose server's last
// record is cut. -j 1 and -j 2. Until now a side's record not finished at
// the end was counted only where a chain search had found its records.
func TestTLSEndCountsRecordCut(t *testing.T) {
	hello := []byte{0x16, 3, 1, 0, 0x2f, 1, 0, 0, 0x2b, 3, 3}
	hello = append(hello, make([]byte, 32)...)             // random
	hello = append(hello, 0, 0, 2, 0xc0, 0x2f, 1, 0, 0, 0) // session id, suites, compression, extensions
	app := func(n int) []byte { return append([]byte{0x17, 3, 3, byte(n >> 8), byte(n)}, make([]byte, n)...) }
	for _, end := range []string{"fin", "rst", "capture"} {
		for _, mid := range []bool{false, true} {
			name := fmt.Sprintf("%s, hello cut", end)
			c := synth.New("192.0.2.1:40000", "192.0.2.2:443").Open()
			var sent [2]int64
			send := func(client bool, b []byte) {
				c.Segment(client, b)
				if client {
					sent[0] += int64(len(b))
				} else {
					sent[1] += int64(len(b))
				}
			}
			if mid {
				name = fmt.Sprintf("%s, after the handshake, last record cut", end)
				send(true, app(40))
				send(false, app(300))
				send(false, app(700)[:400])
			} else {
				send(true, hello[:len(hello)-5])
			}
			c.Wait(10 * time.Millisecond)
			switch end {
			case "fin":
				c.Fin(true).Fin(false)
			case "rst":
				c.Rst(false)
			}
			for _, jobs := range []int{1, 2} {
				l := &tlsBytesSink{}
				decodeAll(l, c.Packets, Options{}, jobs)
				if len(l.tls) != 1 || l.tls[0] != sent {
					t.Errorf("%s, -j %d: tls records' bytes %v, want [%v]", name, jobs, l.tls, sent)
				}
			}
		}
	}
}
