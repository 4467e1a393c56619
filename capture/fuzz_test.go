package capture

import (
	"bytes"
	"fmt"
	"strings"
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
	f.Add(classicFile(be, false, uint32(LinkNFLOG), 0, rec{data: nflogRec(be, payload(1, 41))})) // hostorder.go
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

// FuzzBufferSizesAgree: a file reads the same (packets, secrets, the error
// that ends it) through read buffers of every size. Through 24 bytes no pcapng
// packet block (32 bytes at least) is whole in the buffer: each is read by
// readBlock; through larger ones, packets whole in the buffer are taken
// from it (pcapSource.buffered, ngSource.buffered) and the rest left to
// the readers of record: the fast paths must change nothing.
func FuzzBufferSizesAgree(f *testing.F) {
	f.Add(manyPackets(true, 40))
	f.Add(manyPackets(false, 40))
	f.Add(multiSection())
	f.Add((&ngFile{}).shb(be).idb(1, 0).epb(rec{ts: 7, data: payload(1, 70)}).spb(rec{data: payload(2, 9)}).epb(rec{data: payload(3, 33)}).b)
	f.Add((&ngFile{}).shb(le).idb(1, 0).idb(276, 64).epb(rec{data: payload(1, 200)}).pb(rec{data: payload(2, 40)}).b)
	f.Add((&ngFile{}).shb(be).idb(uint16(LinkNFLOG), 0).epb(rec{data: nflogRec(be, payload(1, 41))}).spb(rec{data: nflogRec(be, payload(2, 9))}).b)
	f.Add(classicFile(be, false, uint32(LinkNFLOG), 0, rec{data: nflogRec(be, payload(1, 41))}, rec{data: nflogRec(be, payload(2, 300))}))
	f.Fuzz(func(t *testing.T, data []byte) {
		ref := readThrough(data, 24)
		for _, size := range []int{64, 300, 0} {
			if got := readThrough(data, size); got != ref {
				t.Fatalf("buffer %d:\n%s\nbuffer 24:\n%s", size, got, ref)
			}
		}
	})
}

// readThrough describes what reading data through a buffer of size gives.
func readThrough(data []byte, size int) string {
	src, err := NewReaderWith(bytes.NewReader(data), Options{BufferSize: size})
	if err != nil {
		return "open: " + err.Error()
	}
	defer src.Close()
	var b strings.Builder
	for range 10000 {
		p, err := src.Next()
		if err != nil {
			fmt.Fprintf(&b, "end: %v\n", err)
			break
		}
		fmt.Fprintf(&b, "%d %d %d %d %x\n", p.Timestamp.UnixNano(), p.CaptureLength, p.Length, p.Link, p.Data)
	}
	for _, s := range src.Secrets() {
		fmt.Fprintf(&b, "secrets %d %x\n", s.Type, s.Data)
	}
	return b.String()
}

// TestBufferedCaptureLimit: a packet block over MaxCaptureLength whole in a
// read buffer larger than the default is refused as readBlock refuses it
// (FuzzBufferSizesAgree's inputs are too small to reach the limit).
func TestBufferedCaptureLimit(t *testing.T) {
	data := (&ngFile{}).shb(le).idb(1, 0).epb(rec{data: payload(1, 40)}).
		epb(rec{data: payload(2, MaxCaptureLength+4)}).epb(rec{data: payload(3, 40)}).b
	ref := readThrough(data, 24)
	if !strings.Contains(ref, "limit") {
		t.Fatalf("buffer 24 reads:\n%.300s", ref)
	}
	if got := readThrough(data, 2*MaxCaptureLength); got != ref {
		t.Fatalf("buffer %d:\n%.300s\nbuffer 24:\n%.300s", 2*MaxCaptureLength, got, ref)
	}
}
