package reassembly

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"

	"github.com/wsdump/wsdump/wsparse"
)

// BenchmarkAssembler runs reassembly and decoding over real captures held
// in memory (link, IP and TCP decoding, gopacket's reassembly, the
// WebSocket decoder, permessage-deflate), records going to a sink that
// drops them: the cost of the Assembler per captured byte, and what it
// allocates per capture. Parallel's sharding is measured end to end in
// bench/.
func BenchmarkAssembler(b *testing.B) {
	for _, name := range []string{"gen__ws-node-many-small-mtu.pcap", "gen__deflate-node-takeover.pcap"} {
		f, err := os.Open(filepath.Join("..", "testdata", "pcaps", name))
		if err != nil {
			b.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		type packet struct {
			data    []byte
			ts      time.Time
			wireLen int
		}
		var pkts []packet
		var size int64
		for {
			data, ci, err := r.ReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			pkts = append(pkts, packet{data, ci.Timestamp, ci.Length})
			size += int64(len(data))
		}
		f.Close()
		link := uint32(r.LinkType())
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				a := New(nopSink{}, Options{Decoder: wsparse.Config{MaxPayload: 16 << 20, MaxMessage: 16 << 20}})
				for _, p := range pkts {
					a.Packet(link, p.data, p.ts, p.wireLen)
				}
				a.Finish()
			}
		})
	}
}
