package main

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// BenchmarkShortRun is one whole wsdump run (the in-process entry point,
// the command tree, the reading, reassembly and output) of a capture of
// a few messages: what every short run pays regardless of its input.
func BenchmarkShortRun(b *testing.B) {
	for _, view := range [][]string{{}, {"--format", "jsonl"}, {"conns"}} {
		name := "table"
		if len(view) > 0 {
			name = view[len(view)-1]
		}
		b.Run(name, func(b *testing.B) {
			data, err := os.ReadFile("../../testdata/pcaps/gen__ws-node-basic.pcap")
			if err != nil {
				b.Fatal(err)
			}
			args := append(append([]string{}, view...), "-r", "-")
			var out bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				out.Reset()
				if code := Main(args, bytes.NewReader(data), &out, io.Discard); code != 0 {
					b.Fatalf("exit status %d", code)
				}
			}
		})
	}
}
