package dataset

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// BenchmarkWriter writes the frames and messages of 100 connections, JSON
// text of 0.5 to 6 KiB each (about 3x compressible with zstd, like the
// capture of bench/parquet.sh): the cost of the Parquet datasets per byte
// of payload (MB/s counts each payload once, as frame and as message).
//
//	go test ./dataset -run '^$' -bench Writer -benchmem
func BenchmarkWriter(b *testing.B) {
	const conns, msgs = 100, 400
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"price", "qty", "symbol", "EURUSD", "BTC-USD", "bid", "ask", "ts", "seq", "book", "update", "trade"}
	payloads := make([][]byte, 512)
	total := 0
	for i := range payloads {
		p := []byte(`{"type":"update","items":[`)
		for n := 512 + rng.IntN(6<<10); len(p) < n; {
			p = fmt.Appendf(p, `{"%s":%d.%04d,"%s":"%s","seq":%d},`, words[rng.IntN(len(words))], rng.IntN(100000),
				rng.IntN(10000), words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.Uint32())
		}
		payloads[i] = append(p[:len(p)-1], "]}"...)
	}
	for i := 0; i < conns*msgs; i++ {
		total += len(payloads[i%len(payloads)])
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	cpu0 := cpuTime()
	var out int64
	for b.Loop() {
		dir := b.TempDir()
		w, err := New(Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		w.SetOrigin(t0)
		cs := make([]*wsparse.Conn, conns)
		for i := range cs {
			cs[i] = wsparse.NewView(i+1, [2]netip.AddrPort{netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 40000),
				netip.MustParseAddrPort("10.0.0.2:443")})
		}
		buf := make([]byte, 0, 8<<10)
		for i := 0; i < conns*msgs; i++ {
			c, d := cs[i%conns], wsparse.Dir(i%2)
			at := t0.Add(time.Duration(i) * time.Millisecond)
			buf = append(buf[:0], payloads[i%len(payloads)]...) // the decoder reuses its buffers
			w.Frame(c, &wsparse.Frame{Dir: d, TS: at, Index: i / conns, Payload: buf,
				Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Masked: d == wsparse.ClientToServer,
					MaskKey: [4]byte{1, 2, 3, 4}, Length: uint64(len(buf)), Size: 8}})
			w.Message(c, &wsparse.Message{Dir: d, TS: at, Index: i / conns, Opcode: wsparse.OpText, Frames: 1,
				Len: uint64(len(buf)), Data: buf})
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		out = 0
		filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if fi, _ := d.Info(); err == nil && fi.Mode().IsRegular() {
				out += fi.Size()
			}
			return err
		})
	}
	b.ReportMetric(float64(out), "out-bytes")
	// CPU seconds (user+sys, all goroutines) per op and CPU MB/s: wall
	// time says little on a loaded machine.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		b.ReportMetric(float64(total)*float64(b.N)/1e6/cpu.Seconds(), "cpu-MB/s")
	}
}
