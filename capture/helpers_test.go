package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// byteOrder reads and appends.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// rec is one record for the hand-made files: timestamp in the file's units.
type rec struct {
	sec, frac uint32 // classic pcap
	ts        uint64 // pcapng
	iface     uint32
	data      []byte
	orig      uint32 // 0 means len(data)
}

func (r rec) origLen() uint32 {
	if r.orig == 0 {
		return uint32(len(r.data))
	}
	return r.orig
}

// classicFile builds a classic pcap file byte by byte.
func classicFile(order byteOrder, nano bool, link, snaplen uint32, recs ...rec) []byte {
	var b []byte
	magic := uint32(magicMicro)
	if nano {
		magic = magicNano
	}
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0) // thiszone
	b = order.AppendUint32(b, 0) // sigfigs
	b = order.AppendUint32(b, snaplen)
	b = order.AppendUint32(b, link)
	for _, r := range recs {
		b = order.AppendUint32(b, r.sec)
		b = order.AppendUint32(b, r.frac)
		b = order.AppendUint32(b, uint32(len(r.data)))
		b = order.AppendUint32(b, r.origLen())
		b = append(b, r.data...)
	}
	return b
}

// ngFile builds a pcapng file block by block.
type ngFile struct {
	order byteOrder
	b     []byte
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (f *ngFile) block(typ uint32, body []byte) *ngFile {
	body = pad4(append([]byte(nil), body...))
	total := uint32(12 + len(body))
	f.b = f.order.AppendUint32(f.b, typ)
	f.b = f.order.AppendUint32(f.b, total)
	f.b = append(f.b, body...)
	f.b = f.order.AppendUint32(f.b, total)
	return f
}

func (f *ngFile) opt(code uint16, v []byte) []byte {
	o := f.order.AppendUint16(nil, code)
	o = f.order.AppendUint16(o, uint16(len(v)))
	return pad4(append(o, v...))
}

// shb starts a new section in the given byte order.
func (f *ngFile) shb(order byteOrder) *ngFile {
	f.order = order
	body := order.AppendUint32(nil, byteOrderMagic)
	body = order.AppendUint16(body, 1)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint64(body, ^uint64(0)) // section length unknown
	body = append(body, f.opt(4, []byte("wsdump test"))...)
	body = append(body, f.opt(0, nil)...)
	return f.block(blockSection, body)
}

func (f *ngFile) idb(link uint16, snaplen uint32, opts ...[]byte) *ngFile {
	body := f.order.AppendUint16(nil, link)
	body = f.order.AppendUint16(body, 0)
	body = f.order.AppendUint32(body, snaplen)
	for _, o := range opts {
		body = append(body, o...)
	}
	if len(opts) > 0 {
		body = append(body, f.opt(0, nil)...)
	}
	return f.block(blockInterface, body)
}

func (f *ngFile) epb(r rec) *ngFile {
	body := f.order.AppendUint32(nil, r.iface)
	body = f.order.AppendUint32(body, uint32(r.ts>>32))
	body = f.order.AppendUint32(body, uint32(r.ts))
	body = f.order.AppendUint32(body, uint32(len(r.data)))
	body = f.order.AppendUint32(body, r.origLen())
	body = pad4(append(body, r.data...))
	body = append(body, f.opt(1, []byte("a packet comment"))...)
	body = append(body, f.opt(0, nil)...)
	return f.block(blockEnhanced, body)
}

// pb writes the obsolete Packet Block.
func (f *ngFile) pb(r rec) *ngFile {
	body := f.order.AppendUint16(nil, uint16(r.iface))
	body = f.order.AppendUint16(body, 0) // drops
	body = f.order.AppendUint32(body, uint32(r.ts>>32))
	body = f.order.AppendUint32(body, uint32(r.ts))
	body = f.order.AppendUint32(body, uint32(len(r.data)))
	body = f.order.AppendUint32(body, r.origLen())
	return f.block(blockPacket, append(body, r.data...))
}

func (f *ngFile) spb(r rec) *ngFile {
	body := f.order.AppendUint32(nil, r.origLen())
	return f.block(blockSimple, append(body, r.data...))
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// readAll reads every packet, copying Data, and returns the final error
// (nil for a clean io.EOF).
func readAll(t testing.TB, src Source) ([]Packet, error) {
	t.Helper()
	var out []Packet
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if p.CaptureLength != len(p.Data) {
			t.Fatalf("CaptureLength %d, len(Data) %d", p.CaptureLength, len(p.Data))
		}
		p.Data = append([]byte(nil), p.Data...)
		out = append(out, p)
	}
}

func mustRead(t testing.TB, file []byte) []Packet {
	t.Helper()
	src, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	defer src.Close()
	pkts, err := readAll(t, src)
	if err != nil {
		t.Fatalf("after %d packets: %v", len(pkts), err)
	}
	return pkts
}

func checkPacket(t *testing.T, i int, got Packet, link LinkType, ts time.Time, data []byte, orig int) {
	t.Helper()
	if got.Link != link {
		t.Errorf("packet %d: Link = %v, want %v", i, got.Link, link)
	}
	if !got.Timestamp.Equal(ts) {
		t.Errorf("packet %d: Timestamp = %v, want %v", i, got.Timestamp, ts)
	}
	if !bytes.Equal(got.Data, data) || got.CaptureLength != len(data) {
		t.Errorf("packet %d: Data = % x (caplen %d), want % x", i, got.Data, got.CaptureLength, data)
	}
	if got.Length != orig {
		t.Errorf("packet %d: Length = %d, want %d", i, got.Length, orig)
	}
}

// payload returns n bytes that differ from packet to packet.
func payload(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seed*31 + i)
	}
	return b
}
