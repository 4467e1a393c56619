// Package bench holds wsdump's end-to-end benchmarks: a whole capture,
// from pcap bytes to output records, wired as cmd/wsdump wires it.
//
//	go test ./bench -run '^$' -bench . -benchmem
//	WSDUMP_BENCH_PCAP=bench/data/ws-bench-100mb.pcap go test ./bench -run '^$' \
//	    -bench 'E2E/capture' -benchtime 5x -cpuprofile cpu.prof -memprofile mem.prof
//
// The timing and memory figures against tcpdump and tshark come from
// bench/run.sh; these benchmarks are for profiling and for following the
// cost per byte and the allocations of each view across commits.
package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// fixtures are committed real-traffic captures (testdata/gen/record.sh):
// one compressed session with context takeover over Ethernet-sized
// segments, and 1000 tiny messages straddling segments.
var fixtures = []string{
	"gen__deflate-node-takeover.pcap",
	"gen__ws-node-many-small-mtu.pcap",
}

// decode runs the whole pipeline over one capture held in memory, with the
// defaults of the command line.
func decode(data []byte, w io.Writer, opts report.Options) error {
	return decodeWatch(data, w, opts, 0, nil)
}

// decodeWatch is decode calling watch(packets) every `every` packets and
// once more before the end-of-input flush.
func decodeWatch(data []byte, w io.Writer, opts report.Options, every int, watch func(packets int)) error {
	src, err := capture.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	defer src.Close()
	exp, err := report.New(w, opts)
	if err != nil {
		return err
	}
	asm := reassembly.New(exp, reassembly.Options{
		Decoder: wsparse.Config{MaxPayload: 16 << 20, MaxMessage: 16 << 20},
	})
	first := true
	for n := 1; ; n++ {
		if watch != nil && n%every == 0 {
			watch(n)
		}
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if first {
			first = false
			if !reassembly.SupportedLink(uint32(p.Link)) {
				return fmt.Errorf("unsupported link type %s", p.Link)
			}
			exp.SetOrigin(p.Timestamp)
		}
		asm.Packet(uint32(p.Link), p.Data, p.Timestamp, p.Length)
	}
	if watch != nil {
		watch(-1)
	}
	asm.Finish()
	if err := exp.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "pcaps", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

var views = []struct {
	name string
	opts report.Options
}{
	{"jsonl", report.Options{Format: "jsonl"}},
	{"table", report.Options{Format: "table"}},
	{"messages", report.Options{Format: "table", Messages: true}},
}

// TestDecodeFixtures makes sure the benchmarks measure real work: every
// fixture decodes, in every view, to messages.
func TestDecodeFixtures(t *testing.T) {
	for _, name := range fixtures {
		data := readFixture(t, name)
		for _, v := range views {
			var out bytes.Buffer
			if err := decode(data, &out, v.opts); err != nil {
				t.Fatalf("%s %s: %v", name, v.name, err)
			}
			if v.name == "jsonl" && strings.Count(out.String(), `"type":"message"`) < 10 {
				t.Errorf("%s: fewer than 10 messages decoded:\n%.2000s", name, out.String())
			}
			if out.Len() == 0 {
				t.Errorf("%s %s: no output", name, v.name)
			}
		}
	}
}

// BenchmarkE2E decodes each fixture in each view, writing to io.Discard.
// With WSDUMP_BENCH_PCAP set (a capture from bench/gen.sh), it also runs
// E2E/capture/VIEW over that file, held in memory.
func BenchmarkE2E(b *testing.B) {
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	for _, name := range fixtures {
		inputs = append(inputs, input{strings.TrimSuffix(name, ".pcap"), readFixture(b, name)})
	}
	if path := os.Getenv("WSDUMP_BENCH_PCAP"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, input{"capture", data})
	}
	for _, in := range inputs {
		for _, v := range views {
			b.Run(in.name+"/"+v.name, func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				b.ReportAllocs()
				for b.Loop() {
					if err := decode(in.data, io.Discard, v.opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
