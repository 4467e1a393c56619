package reassembly

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// TestSpillFixtures: every committed capture (wss ones with their key
// logs) decodes to the same records with every unfinished message at rest
// written to the spill file (SpillAbove 1), on two workers sharing it, as
// with none (-1) on one: real clients' fragmented, compressed and TLS
// messages read back as written.
func TestSpillFixtures(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/pcaps/*.pcap*")
	if len(paths) < 50 {
		t.Fatalf("%d captures", len(paths))
	}
	before := wsparse.Spilled()
	for _, path := range paths {
		opts := Options{}
		if f, err := os.Open(strings.TrimSuffix(strings.TrimSuffix(path, ".pcapng"), ".pcap") + ".keys"); err == nil {
			keys, err := tlsdec.ParseKeyLog(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			opts.Keys = keys
		}
		decode := func(above, jobs int) []string {
			src, err := capture.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			l := &logSink{}
			o := opts
			o.Decoder.SpillAbove = above
			var a decoder = New(l, o)
			if jobs > 1 {
				a = NewParallel(l, o, jobs)
			}
			for {
				p, err := src.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				a.Packet(uint32(p.Link), p.Data, p.Timestamp, p.Length)
			}
			a.Finish()
			return l.lines
		}
		got, want := decode(1, 2), decode(-1, 1)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("%s: record %d spilled\n%s\nnot spilled\n%s", path, i, got[i], want[i])
				}
			}
			t.Fatalf("%s: %d records spilled, %d not", path, len(got), len(want))
		}
	}
	n := wsparse.Spilled() - before
	t.Logf("%d messages spilled", n)
	if n < 100 {
		t.Errorf("%d messages spilled: the captures' fragmented messages were not", n)
	}
	if err := wsparse.SpillError(); err != nil {
		t.Fatal(err)
	}
}
