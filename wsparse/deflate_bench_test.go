package wsparse

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand/v2"
	"testing"
)

// jsonMessages returns n JSON messages of 200 to 1000 bytes, alike in
// shape and keys as a feed's messages are, different in their values.
func jsonMessages(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	syms := []string{"BTC-USD", "ETH-USD", "SOL-USD", "DOGE-USD", "ETH-BTC"}
	msgs := make([][]byte, n)
	for i := range msgs {
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"type":"l2update","product_id":%q,"sequence":%d,"time":"2024-03-%02dT%02d:%02d:%02d.%06dZ","changes":[`,
			syms[r.IntN(len(syms))], 1e9+i*7+r.IntN(7), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e6))
		for j := 0; ; j++ {
			side := "buy"
			if r.IntN(2) == 0 {
				side = "sell"
			}
			entry := fmt.Sprintf(`{"side":%q,"price":"%d.%02d","size":"%d.%08d"}`, side, 40000+r.IntN(5000), r.IntN(100), r.IntN(10), r.IntN(1e8))
			if j > 0 && (b.Len()+len(entry) > 960 || r.IntN(6) == 0 && b.Len() > 200) {
				break
			}
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(entry)
		}
		b.WriteString(`]}`)
		msgs[i] = b.Bytes()
	}
	return msgs
}

// deflateMessages compresses messages as a permessage-deflate sender does:
// one flate stream for all (context takeover) or a new one for each,
// flushed after each message and without the final 00 00 ff ff.
func deflateMessages(tb testing.TB, msgs [][]byte, takeover bool, level int) [][]byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		if !takeover {
			w.Reset(&buf)
		}
		buf.Reset()
		w.Write(m)
		w.Flush()
		p := buf.Bytes()
		if !bytes.HasSuffix(p, deflateTail) {
			tb.Fatal("flush did not end with the sync marker")
		}
		out[i] = bytes.Clone(p[:len(p)-len(deflateTail)])
	}
	return out
}

// benchInflate inflates the compressed messages in order, as one direction
// of a connection, per op; the bytes per op are the inflated bytes.
func benchInflate(b *testing.B, plain, compressed [][]byte, noCtx bool) {
	total := 0
	for _, m := range plain {
		total += len(m)
	}
	// Check once that the messages inflate to what was compressed.
	z := &inflater{noCtx: noCtx}
	for i, p := range compressed {
		out, a := z.inflate(p, true, 16<<20)
		if a != 0 || !bytes.Equal(out, plain[i]) {
			b.Fatalf("message %d: anomalies %v, %d bytes, want %d", i, a, len(out), len(plain[i]))
		}
		z.release()
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		z.window, z.lost, z.ring = z.window[:0], false, false // a new connection
		for _, p := range compressed {
			z.inflate(p, true, 16<<20)
			z.release()
		}
	}
}

// BenchmarkInflateJSONTakeover inflates a sequence of small JSON messages
// of one direction with context takeover (the usual case).
func BenchmarkInflateJSONTakeover(b *testing.B) {
	plain := jsonMessages(200)
	benchInflate(b, plain, deflateMessages(b, plain, true, flate.DefaultCompression), false)
}

// BenchmarkInflateJSONNoContext is the same under no_context_takeover.
func BenchmarkInflateJSONNoContext(b *testing.B) {
	plain := jsonMessages(200)
	benchInflate(b, plain, deflateMessages(b, plain, false, flate.DefaultCompression), true)
}

// BenchmarkInflate64K inflates one 64 KiB message.
func BenchmarkInflate64K(b *testing.B) {
	var m []byte
	for _, p := range jsonMessages(200) {
		m = append(m, p...)
		if len(m) >= 64<<10 {
			break
		}
	}
	plain := [][]byte{m[:64<<10]}
	benchInflate(b, plain, deflateMessages(b, plain, true, flate.DefaultCompression), false)
}
