package capture

import (
	"bytes"
	"testing"
)

// FuzzNewReader: any input opens or fails cleanly, and reading never panics
// or hands out more than MaxCaptureLength bytes.
func FuzzNewReader(f *testing.F) {
	f.Add(classicFile(le, false, 1, 65535, rec{sec: 1, frac: 2, data: payload(1, 20)}))
	f.Add(classicFile(be, true, uint32(LinkLinuxSLL2), 0, rec{data: payload(1, 3)}, rec{data: nil, orig: 9}))
	f.Add(multiSection())
	f.Add(gzipped(multiSection()))
	f.Add((&ngFile{}).shb(be).idb(1, 0).spb(rec{data: payload(1, 7)}).b)
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer src.Close()
		for range 10000 {
			p, err := src.Next()
			if err != nil {
				if _, again := src.Next(); again != err {
					t.Fatalf("error not repeated: %v then %v", err, again)
				}
				return
			}
			if p.CaptureLength != len(p.Data) || p.CaptureLength > MaxCaptureLength || p.Length < p.CaptureLength {
				t.Fatalf("bad packet: caplen %d, len(Data) %d", p.CaptureLength, len(p.Data))
			}
		}
	})
}
