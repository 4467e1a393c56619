package wsparse

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"os"
	"testing"
)

// dumpStream is one direction's compressed messages, in order.
type dumpStream struct {
	noCtx bool
	msgs  [][]byte
}

// readInflateDump reads the file that bench/inflatedump.py writes from a
// capture's jsonl: per message a u32 direction, a u8 no_context_takeover
// flag, a u32 length and the message's bytes (without the 00 00 ff ff tail).
func readInflateDump(tb testing.TB) []*dumpStream {
	path := os.Getenv("WSDUMP_INFLATE_DUMP")
	if path == "" {
		tb.Skip("WSDUMP_INFLATE_DUMP is not set: no capture's messages to inflate (bench/README.md section 15)")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var streams []*dumpStream
	for len(data) > 0 {
		if len(data) < 9 {
			tb.Fatal("dump: truncated header")
		}
		sid, noCtx, n := binary.LittleEndian.Uint32(data), data[4] == 1, int(binary.LittleEndian.Uint32(data[5:]))
		data = data[9:]
		if n > len(data) {
			tb.Fatal("dump: truncated message")
		}
		for int(sid) >= len(streams) {
			streams = append(streams, &dumpStream{})
		}
		s := streams[sid]
		s.noCtx = noCtx
		s.msgs = append(s.msgs, data[:n])
		data = data[n:]
	}
	return streams
}

// BenchmarkInflateDump inflates a capture's compressed messages, each
// direction as its receiver does, with wsdump's inflater and with
// compress/flate; the bytes per op are the inflated bytes.
func BenchmarkInflateDump(b *testing.B) {
	streams := readInflateDump(b)
	// Both inflate every message to the same bytes.
	var total int64
	for _, s := range streams {
		z := &inflater{noCtx: s.noCtx}
		fr := flate.NewReader(bytes.NewReader(nil))
		var window []byte
		for _, m := range s.msgs {
			out, a := z.inflate(m, true, 64<<20)
			if a != 0 {
				b.Fatalf("anomalies %v", a)
			}
			want := stdInflate(b, fr, m, &window, s.noCtx)
			if !bytes.Equal(out, want) {
				b.Fatal("wsdump's inflater and compress/flate differ")
			}
			total += int64(len(out))
			z.release()
		}
	}
	b.Run("wsdump", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, s := range streams {
				z := &inflater{noCtx: s.noCtx}
				for _, m := range s.msgs {
					z.inflate(m, true, 64<<20)
					z.release()
				}
			}
		}
	})
	b.Run("compress-flate", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, s := range streams {
				fr := flate.NewReader(bytes.NewReader(nil))
				var window []byte
				for _, m := range s.msgs {
					stdInflate(b, fr, m, &window, s.noCtx)
				}
			}
		}
	})
}

// stdInflate inflates one message with fr, as a Go receiver does with
// compress/flate: reset on the message and its tail with the window of
// the messages before it (none under no_context_takeover) as dictionary,
// it stops, out of input, at the sync marker's end.
var stdBuf bytes.Buffer

func stdInflate(tb testing.TB, fr io.ReadCloser, m []byte, window *[]byte, noCtx bool) []byte {
	in := io.MultiReader(bytes.NewReader(m), bytes.NewReader(deflateTail))
	var dict []byte
	if !noCtx {
		dict = *window
	}
	fr.(flate.Resetter).Reset(in, dict)
	stdBuf.Reset()
	if _, err := io.Copy(&stdBuf, fr); err != nil && err != io.ErrUnexpectedEOF {
		tb.Fatal(err)
	}
	if !noCtx {
		w := append(*window, stdBuf.Bytes()...)
		*window = append(w[:0], w[max(len(w)-32<<10, 0):]...)
	}
	return stdBuf.Bytes()
}
