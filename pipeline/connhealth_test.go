package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/internal/prof"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestConnHealthSmall (issue 16): the first pass of -Y conn.* keeps each
// connection's health through the second pass, for every connection of
// the capture, while the second holds as many open at once: a connection
// without health (most) is a bit, one with some a few ints. It was a map
// of maps, ~1.5 KB a connection (-Y 'conn.heartbeat.missed > 0' on 100 000
// open connections: 501 MiB peak RSS, jsonl 281).
func TestConnHealthSmall(t *testing.T) {
	const n = 2000
	var pkts []synth.Packet
	for i := range n {
		c := synth.New(fmt.Sprintf("10.1.%d.%d:40000", i>>8&255, i&255), "10.0.0.2:80").Open().Upgrade()
		c.Frame(true, wsparse.OpText, []byte("hello"))
		pkts = append(pkts, c.Packets...)
	}
	var buf bytes.Buffer
	if err := synth.WritePcap(&buf, 0, pkts...); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "open.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	in := &Input{Ctx: context.Background(), Err: io.Discard}
	var health any
	var missing int
	per := prof.HeapLeftPer(n, func() {
		src, err := Open(context.Background(), []string{path}, nil, io.Discard, capture.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		h, err := ConnHealth(in.Options(wsparse.Config{}, nil), "auto", 1, func(asm Assembler, origin func(time.Time)) error {
			return Feed(src, asm, FeedOptions{Name: "open.pcap"})
		})
		if err != nil {
			t.Fatal(err)
		}
		for id := 1; id <= n; id++ {
			if h(id) == nil {
				missing++
			}
		}
		health = h
	})
	runtime.KeepAlive(health)
	t.Logf("%.1f bytes kept per connection", per)
	if missing > 0 {
		t.Errorf("%d of %d connections without health", missing, n)
	}
	if per > 16 {
		t.Errorf("the health of a connection without any keeps %.1f bytes, want at most 16", per)
	}
}
