package reassembly

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// openConns feeds n connections that stay open, as bench/memgen writes
// them: the three-way handshake, the upgrade, a 64 B frame from the client
// and the first 1000 B fragment of a message from the server.
func openConns(a *Assembler, n int) {
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	server := [4]byte{192, 0, 2, 2}
	req := []byte(synth.UpgradeRequest + "\r\n")
	resp := []byte(synth.UpgradeResponse + "\r\n")
	small := wsparse.AppendHeader(nil, wsparse.Header{Fin: true, Opcode: wsparse.OpText, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Length: 64})
	small = append(small, make([]byte, 64)...)
	frag := append(wsparse.AppendHeader(nil, wsparse.Header{Opcode: wsparse.OpText, Length: 1000}), make([]byte, 1000)...)
	for i := range n {
		client := [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		cport := uint16(1024 + i%60000)
		cseq, sseq := uint32(1000), uint32(5000)
		send := func(fromClient bool, flags byte, p []byte) {
			if fromClient {
				a.Packet(101, synth.RawTCP4(client, server, cport, 80, cseq, sseq, flags, p), ts, 40+len(p))
				cseq += uint32(len(p))
			} else {
				a.Packet(101, synth.RawTCP4(server, client, 80, cport, sseq, cseq, flags, p), ts, 40+len(p))
				sseq += uint32(len(p))
			}
			ts = ts.Add(time.Microsecond)
		}
		send(true, flagSYN, nil)
		cseq++
		send(false, flagSYN|flagACK, nil)
		sseq++
		send(true, flagACK, nil)
		send(true, flagPSH|flagACK, req)
		send(false, flagPSH|flagACK, resp)
		binary.BigEndian.PutUint32(small[2:], uint32(i)) // a mask key per connection
		send(true, flagPSH|flagACK, small)
		send(false, flagPSH|flagACK, frag)
	}
}

// TestBytesPerOpenConnection: what an open WebSocket connection holds is
// sized to what it uses: its state and the 1000 bytes of the message it is
// assembling, not buffers of the sizes it once needed (it took 8.8 KB a
// connection, most in buffers kept between frames and a 2 KiB
// retransmission ring, 100 000 of them over a gigabyte; 5 125 before the
// decoder held its HTTP state and its open frame and message only while
// used, 3 990 after; 3 652 once a stream made its flow key from its
// addresses and a decoder kept of its handshake only what the summary
// reports).
func TestBytesPerOpenConnection(t *testing.T) {
	const n = 5000
	sink := &countSink{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a := New(sink, Options{})
	openConns(a, n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per open connection (%d connections, %d frames)", per, n, sink.frames)
	if sink.frames != 2*n || len(a.live) != n {
		t.Fatalf("%d frames, %d connections live", sink.frames, len(a.live))
	}
	if per > 3800 {
		t.Errorf("%.0f bytes per open connection", per)
	}
	a.Finish()
	if sink.ends != n {
		t.Errorf("%d connections ended", sink.ends)
	}
}
