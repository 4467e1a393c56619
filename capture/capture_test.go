package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

var (
	le byteOrder = binary.LittleEndian
	be byteOrder = binary.BigEndian
)

func TestPcapgoWrittenFiles(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	for _, nano := range []bool{false, true} {
		var buf bytes.Buffer
		w := pcapgo.NewWriter(&buf)
		want := ts.Truncate(time.Microsecond)
		if nano {
			w = pcapgo.NewWriterNanos(&buf)
			want = ts
		}
		if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			d := payload(i, 60+i)
			ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Second), CaptureLength: len(d), Length: len(d) + 100}
			if err := w.WritePacket(ci, d); err != nil {
				t.Fatal(err)
			}
		}
		pkts := mustRead(t, buf.Bytes())
		if len(pkts) != 3 {
			t.Fatalf("nano=%v: %d packets, want 3", nano, len(pkts))
		}
		for i, p := range pkts {
			checkPacket(t, i, p, LinkEthernet, want.Add(time.Duration(i)*time.Second), payload(i, 60+i), 160+i)
		}
	}
}

func TestClassicByteOrdersAndResolutions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order byteOrder
		nano  bool
	}{
		{"little-micro", le, false},
		{"little-nano", le, true},
		{"big-micro", be, false},
		{"big-nano", be, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := classicFile(tc.order, tc.nano, uint32(LinkLinuxSLL2), 262144,
				rec{sec: 1700000000, frac: 999999, data: payload(1, 40)},
				rec{sec: 1700000001, frac: 5, data: payload(2, 0), orig: 1500},
				rec{sec: 1700000002, frac: 0, data: payload(3, 1514)},
			)
			unit := time.Microsecond
			if tc.nano {
				unit = time.Nanosecond
			}
			pkts := mustRead(t, file)
			if len(pkts) != 3 {
				t.Fatalf("%d packets, want 3", len(pkts))
			}
			checkPacket(t, 0, pkts[0], LinkLinuxSLL2, time.Unix(1700000000, 0).Add(999999*unit), payload(1, 40), 40)
			checkPacket(t, 1, pkts[1], LinkLinuxSLL2, time.Unix(1700000001, 0).Add(5*unit), nil, 1500)
			checkPacket(t, 2, pkts[2], LinkLinuxSLL2, time.Unix(1700000002, 0), payload(3, 1514), 1514)
		})
	}
}

func TestClassicLinkTypeFlagsIgnored(t *testing.T) {
	// The upper bits of the link type field carry FCS information.
	pkts := mustRead(t, classicFile(le, false, 0x10000000|uint32(LinkEthernet), 65535, rec{data: payload(0, 20)}))
	if pkts[0].Link != LinkEthernet {
		t.Errorf("Link = %v, want ETHERNET", pkts[0].Link)
	}
}

func TestPcapgoNgWriterFile(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeLinuxSLL)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2023, 1, 2, 3, 4, 5, 678901000, time.UTC)
	for i := range 4 {
		d := payload(i, 100)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: 100, Length: 200}, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	pkts := mustRead(t, buf.Bytes())
	if len(pkts) != 4 {
		t.Fatalf("%d packets, want 4", len(pkts))
	}
	for i, p := range pkts {
		checkPacket(t, i, p, LinkLinuxSLL, ts.Add(time.Duration(i)*time.Millisecond), payload(i, 100), 200)
	}
}

// multiSection has two sections of different byte orders, several
// interfaces with different link types and resolutions, every packet block
// type and blocks to skip; wantMultiSection describes its packets.
func multiSection() []byte {
	f := &ngFile{}
	f.shb(le).
		idb(uint16(LinkEthernet), 65535).
		idb(uint16(LinkLinuxSLL2), 0, f.opt(optTSResol, []byte{9})).
		idb(uint16(LinkRaw), 0, f.opt(2, []byte("eth0")), f.opt(optTSResol, []byte{3}), f.opt(optTSOffset, le.AppendUint64(nil, 1000))).
		epb(rec{iface: 0, ts: 1700000000_123456, data: payload(0, 60), orig: 70}).
		block(5, make([]byte, 20)). // Interface Statistics: skipped
		epb(rec{iface: 1, ts: 1700000001_000000123, data: payload(1, 41)}).
		block(0xdeadbeec, []byte("an unknown block type")).
		epb(rec{iface: 2, ts: 42_001, data: payload(2, 3)})
	f.shb(be). // as `cat a.pcapng b.pcapng` produces
			idb(uint16(LinkNull), 8, f.opt(optTSResol, []byte{0x80 | 10})).
			idb(uint16(LinkLoop), 0).
			epb(rec{iface: 1, ts: 5_000001, data: payload(3, 9)}).
			epb(rec{iface: 0, ts: 7<<10 | 512, data: payload(4, 8)}).
			pb(rec{iface: 1, ts: 6_500000, data: payload(5, 12), orig: 99}).
			spb(rec{data: payload(6, 8), orig: 20}) // cut to interface 0's snaplen 8
	return f.b
}

func checkMultiSection(t *testing.T, pkts []Packet) {
	t.Helper()
	if len(pkts) != 7 {
		t.Fatalf("%d packets, want 7", len(pkts))
	}
	checkPacket(t, 0, pkts[0], LinkEthernet, time.Unix(1700000000, 123456000), payload(0, 60), 70)
	checkPacket(t, 1, pkts[1], LinkLinuxSLL2, time.Unix(1700000001, 123), payload(1, 41), 41)
	checkPacket(t, 2, pkts[2], LinkRaw, time.Unix(1042, 1000000), payload(2, 3), 3)
	checkPacket(t, 3, pkts[3], LinkLoop, time.Unix(5, 1000), payload(3, 9), 9)
	checkPacket(t, 4, pkts[4], LinkNull, time.Unix(7, 500000000), payload(4, 8), 8)
	checkPacket(t, 5, pkts[5], LinkLoop, time.Unix(6, 500000000), payload(5, 12), 99)
	checkPacket(t, 6, pkts[6], LinkNull, time.Time{}, payload(6, 8), 20)
}

func TestPcapngSectionsInterfacesBlocks(t *testing.T) {
	checkMultiSection(t, mustRead(t, multiSection()))
}

func TestPcapngBigEndianOnly(t *testing.T) {
	f := &ngFile{}
	f.shb(be).idb(uint16(LinkLinuxSLL2), 0).epb(rec{ts: 1_000002, data: payload(9, 33)})
	pkts := mustRead(t, f.b)
	if len(pkts) != 1 {
		t.Fatalf("%d packets, want 1", len(pkts))
	}
	checkPacket(t, 0, pkts[0], LinkLinuxSLL2, time.Unix(1, 2000), payload(9, 33), 33)
}

func TestPcapngTimestampResolutions(t *testing.T) {
	for _, tc := range []struct {
		resol byte
		ts    uint64
		want  time.Time
	}{
		{0, 3, time.Unix(3, 0)},
		{6, 3_000004, time.Unix(3, 4000)},
		{9, 3_000000004, time.Unix(3, 4)},
		{12, 3_000000004000, time.Unix(3, 4)},
		{19, 1_0000000000000000000, time.Unix(1, 0)},
		{0x80, 3, time.Unix(3, 0)},
		{0x80 | 1, 7, time.Unix(3, 500000000)},
		{0x80 | 30, 3<<30 | 1<<29, time.Unix(3, 500000000)},
		{0x80 | 63, 1<<63 | 1<<62, time.Unix(1, 500000000)},
	} {
		f := &ngFile{}
		f.shb(le).idb(1, 0, f.opt(optTSResol, []byte{tc.resol})).epb(rec{ts: tc.ts, data: []byte{1}})
		pkts := mustRead(t, f.b)
		if !pkts[0].Timestamp.Equal(tc.want) {
			t.Errorf("if_tsresol %#x, ts %d: got %v, want %v", tc.resol, tc.ts, pkts[0].Timestamp, tc.want)
		}
	}
}

func TestPcapngInterfaceIDsRestartPerSection(t *testing.T) {
	f := &ngFile{}
	f.shb(le).idb(1, 0).idb(1, 0).epb(rec{iface: 1, data: []byte{1}})
	f.shb(le).idb(1, 0).epb(rec{iface: 1, data: []byte{2}})
	src, err := NewReader(bytes.NewReader(f.b))
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := readAll(t, src)
	if len(pkts) != 1 || err == nil || !strings.Contains(err.Error(), "interface 1 not defined") {
		t.Fatalf("got %d packets, err %v; want 1 packet then an undefined-interface error", len(pkts), err)
	}
}

func TestGzip(t *testing.T) {
	classic := classicFile(be, true, 1, 65535, rec{sec: 1, data: payload(1, 50)}, rec{sec: 2, data: payload(2, 51)})
	if got := mustRead(t, gzipped(classic)); len(got) != 2 || !bytes.Equal(got[1].Data, payload(2, 51)) {
		t.Errorf("gzip pcap: %d packets", len(got))
	}
	checkMultiSection(t, mustRead(t, gzipped(multiSection())))

	// Cut compressed input: what was decompressed is delivered, then an
	// unexpected EOF.
	z := gzipped(classicFile(le, false, 1, 65535, rec{data: payload(1, 5000)}, rec{data: payload(2, 5000)}))
	src, err := NewReader(bytes.NewReader(z[:len(z)-30]))
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(t, src)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated gzip: err = %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestTruncatedEverywhere cuts files at every length: packets before the cut
// arrive intact, a cut at a record boundary is a clean end, and any other cut
// is an io.ErrUnexpectedEOF from Next (or from NewReader inside the header).
func TestTruncatedEverywhere(t *testing.T) {
	classic := classicFile(le, false, 1, 65535, rec{data: payload(1, 10)}, rec{data: payload(2, 0)}, rec{data: payload(3, 7)})
	classicEnds := map[int]int{24: 0, 24 + 16 + 10: 1, 24 + 16 + 10 + 16: 2, len(classic): 3}
	ng := multiSection()
	all := mustRead(t, ng)
	for _, tc := range []struct {
		name   string
		file   []byte
		header int
		ends   map[int]int // cut -> packets, for cuts that are clean ends
	}{
		{"pcap", classic, 24, classicEnds},
		{"pcapng", ng, 0, nil},
	} {
		for cut := 1; cut < len(tc.file); cut++ {
			src, err := NewReader(bytes.NewReader(tc.file[:cut]))
			if err != nil {
				if cut >= 4 && cut < tc.header && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("%s cut at %d: NewReader: %v, want io.ErrUnexpectedEOF", tc.name, cut, err)
				}
				continue
			}
			pkts, err := readAll(t, src)
			if n, clean := tc.ends[cut]; clean {
				if err != nil || len(pkts) != n {
					t.Errorf("%s cut at %d: %d packets, err %v; want %d, clean end", tc.name, cut, len(pkts), err, n)
				}
				continue
			}
			if tc.name == "pcapng" && err == nil {
				continue // a cut between blocks
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "truncated") {
				t.Errorf("%s cut at %d: err = %v, want a truncation error", tc.name, cut, err)
			}
			if tc.name == "pcapng" {
				for i, p := range pkts {
					if !bytes.Equal(p.Data, all[i].Data) {
						t.Errorf("pcapng cut at %d: packet %d differs", cut, i)
					}
				}
			}
		}
	}
	// The error repeats and says which record.
	src, _ := NewReader(bytes.NewReader(classic[:len(classic)-3]))
	readAll(t, src)
	_, err := src.Next()
	if want := "capture: record 3: file is truncated: unexpected EOF"; err == nil || err.Error() != want {
		t.Errorf("repeated error = %v, want %q", err, want)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	txt := write("foo.txt", []byte("HTTP/1.1 200 OK\r\n"))
	empty := write("empty.pcap", nil)
	emptyGz := write("empty.pcap.gz", gzipped(nil))
	short := write("short.pcap", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0})
	version := write("v3.pcap", append(le.AppendUint32(nil, magicMicro), 3, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0))
	for _, tc := range []struct {
		path, want string
	}{
		{txt, "capture: " + txt + ": not a pcap or pcapng file (starts with 48 54 54 50)"},
		{empty, "capture: " + empty + ": empty file"},
		{emptyGz, "capture: " + emptyGz + ": empty file after gzip decompression"},
		{short, "capture: " + short + ": pcap file header: file is truncated: unexpected EOF"},
		{version, "capture: " + version + ": unsupported pcap version 3.4"},
		{filepath.Join(dir, "missing.pcap"), "capture: open " + filepath.Join(dir, "missing.pcap") + ": no such file or directory"},
	} {
		_, err := Open(tc.path)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Open(%s) error = %v\nwant %s", filepath.Base(tc.path), err, tc.want)
		}
	}
	if _, err := NewReader(strings.NewReader("")); err == nil || err.Error() != "capture: empty file" {
		t.Errorf("NewReader(empty) error = %v", err)
	}
	if _, err := NewReader(strings.NewReader("GE")); err == nil || err.Error() != "capture: not a pcap or pcapng file (starts with 47 45)" {
		t.Errorf("NewReader(GE) error = %v", err)
	}
}

func TestOpenFileAndStdin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "capture.bin")
	if err := os.WriteFile(path, gzipped(multiSection()), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	checkMultiSection(t, pkts)
	if err := src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	src, err = Open("-")
	if err != nil {
		t.Fatal(err)
	}
	pkts, err = readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	checkMultiSection(t, pkts)
	src.Close()
	if _, err := f.Stat(); err != nil {
		t.Errorf("Close closed standard input: %v", err)
	}
}

// TestHostileHeaders: absurd lengths are errors or are capped, never big
// allocations or panics.
func TestHostileHeaders(t *testing.T) {
	ng := func(build func(f *ngFile)) []byte {
		f := &ngFile{}
		f.shb(le).idb(1, 0)
		build(f)
		return f.b
	}
	rawBlock := func(f *ngFile, typ, total uint32, body []byte) {
		f.b = le.AppendUint32(f.b, typ)
		f.b = le.AppendUint32(f.b, total)
		f.b = append(f.b, body...)
	}
	epbHeader := func(caplen uint32) []byte {
		b := make([]byte, 12)
		b = le.AppendUint32(b, caplen)
		return le.AppendUint32(b, caplen)
	}
	badTrailer := ng(func(f *ngFile) { f.epb(rec{data: []byte{1}}) })
	badTrailer[len(badTrailer)-4]++
	for _, tc := range []struct {
		name    string
		file    []byte
		packets int
		err     string // substring; "" for a clean end
	}{
		{"pcap snaplen 4G", classicFile(le, false, 1, 0xffffffff, rec{data: payload(1, 100)}), 1, ""},
		{"pcap snaplen 0", classicFile(le, false, 1, 0, rec{data: payload(1, 100)}), 1, ""},
		{"pcap caplen > snaplen", classicFile(le, false, 1, 64, rec{data: payload(1, 100)}, rec{data: payload(1, 1)}), 2, ""},
		{"pcap caplen 256KiB", classicFile(le, false, 1, 64, rec{data: payload(1, MaxCaptureLength)}), 1, ""},
		{"pcap caplen 4G", append(classicFile(le, false, 1, 64, rec{data: payload(1, 10)}), 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0xff, 0xff, 0xff, 0xf0, 0xff, 0xff, 0xff, 1, 2, 3), 1,
			"record 2 claims 4294967280 captured bytes, more than the 262144-byte limit"},
		{"pcap caplen > orig", classicFile(le, false, 1, 64, rec{data: payload(1, 10), orig: 5}), 0, "record 1: captured length 10 exceeds original length 5"},
		{"pcapng block 4G", ng(func(f *ngFile) { rawBlock(f, 0x99, 0xfffffffc, []byte("abc")) }), 0, "truncated"},
		{"pcapng EPB caplen 4G", ng(func(f *ngFile) { rawBlock(f, blockEnhanced, 0xfffffffc, epbHeader(0xffffff00)) }), 0, "more than the 262144-byte limit"},
		{"pcapng EPB caplen > block", ng(func(f *ngFile) { rawBlock(f, blockEnhanced, 64, epbHeader(1000)) }), 0, "captured length 1000 exceeds block length 64"},
		{"pcapng EPB 256KiB", ng(func(f *ngFile) { f.epb(rec{data: payload(1, MaxCaptureLength)}) }), 1, ""},
		{"pcapng EPB over 256KiB", ng(func(f *ngFile) { f.epb(rec{data: payload(1, MaxCaptureLength+1)}) }), 0, "more than the 262144-byte limit"},
		{"pcapng EPB orig < caplen", ng(func(f *ngFile) { f.epb(rec{data: payload(1, 10), orig: 1}) }), 1, ""},
		{"pcapng block length 7", ng(func(f *ngFile) { rawBlock(f, 1, 7, nil) }), 0, "invalid block length 7"},
		{"pcapng block length 13", ng(func(f *ngFile) { rawBlock(f, 1, 13, nil) }), 0, "invalid block length 13"},
		{"pcapng short EPB", ng(func(f *ngFile) { f.block(blockEnhanced, make([]byte, 8)) }), 0, "invalid block length 20"},
		{"pcapng IDB 4G", ng(func(f *ngFile) { rawBlock(f, blockInterface, 0xfffffff0, nil) }), 0, "invalid block length 4294967280"},
		{"pcapng trailer mismatch", badTrailer, 0, "trailing length 61 does not match length 60"},
		{"pcapng tsresol 10^-20", ng(func(f *ngFile) { f.idb(1, 0, f.opt(optTSResol, []byte{20})) }), 0, "unsupported timestamp resolution 20"},
		{"pcapng tsresol 2^-127", ng(func(f *ngFile) { f.idb(1, 0, f.opt(optTSResol, []byte{0xff})) }), 0, "unsupported timestamp resolution 255"},
		{"pcapng short tsoffset", ng(func(f *ngFile) { f.idb(1, 0, f.opt(optTSOffset, []byte{1, 2})).epb(rec{iface: 1, data: []byte{1}}) }), 1, ""},
		{"pcapng option overruns", ng(func(f *ngFile) { f.idb(1, 0, []byte{9, 0, 0xff, 0}).epb(rec{iface: 1, data: []byte{1}}) }), 1, ""},
		{"pcapng SPB without IDB", (&ngFile{}).shb(le).spb(rec{data: []byte{1}}).b, 0, "no interface defined"},
		{"pcapng bad byte-order magic", append((&ngFile{}).shb(le).b, 0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4), 0, "bad byte-order magic 01 02 03 04"},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		src, err := NewReader(bytes.NewReader(tc.file))
		if err != nil {
			t.Errorf("%s: NewReader: %v", tc.name, err)
			continue
		}
		pkts, err := readAll(t, src)
		runtime.ReadMemStats(&after)
		if len(pkts) != tc.packets {
			t.Errorf("%s: %d packets, want %d", tc.name, len(pkts), tc.packets)
		}
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", tc.name, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
			t.Errorf("%s: allocated %d bytes", tc.name, alloc)
		}
	}
}

func TestPcapngSectionVersion(t *testing.T) {
	f := (&ngFile{}).shb(le)
	f.b[12] = 2 // major version
	if _, err := NewReader(bytes.NewReader(f.b)); err == nil || !strings.Contains(err.Error(), "unsupported pcapng version 2.0") {
		t.Errorf("err = %v", err)
	}
}

func manyPackets(ng bool, n int) []byte {
	if ng {
		f := (&ngFile{}).shb(le).idb(1, 0)
		for i := range n {
			f.epb(rec{ts: uint64(i), data: payload(i, 60+i%1400)})
		}
		return f.b
	}
	recs := make([]rec, n)
	for i := range recs {
		recs[i] = rec{sec: uint32(i), data: payload(i, 60+i%1400)}
	}
	return classicFile(le, true, 1, 65535, recs...)
}

func TestNextDoesNotAllocate(t *testing.T) {
	for _, ng := range []bool{false, true} {
		src, err := NewReader(bytes.NewReader(manyPackets(ng, 3000)))
		if err != nil {
			t.Fatal(err)
		}
		for range 1500 { // grow the buffers first
			if _, err := src.Next(); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := src.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("pcapng=%v: %v allocations per Next, want 0", ng, allocs)
		}
	}
}

// TestRecordsNotCopied: a record (classic pcap; pcapng enhanced, obsolete
// and simple packet blocks) whole in the read buffer is handed out as a
// slice of it, not copied: each packet's data starts a little after the
// previous one's ends (exactly one 16-byte record header later in classic
// pcap), and its capacity ends with the packet, so appending to it cannot
// overwrite the next record. Through a read buffer smaller than most
// records, which then straddle its end, the packets are the same.
func TestRecordsNotCopied(t *testing.T) {
	recs := make([]rec, 60)
	for i := range recs {
		recs[i] = rec{sec: uint32(i), ts: uint64(i) * 1e6, data: payload(i, 60+i*7)}
	}
	ng := (&ngFile{}).shb(le).idb(1, 0)
	for i, r := range recs {
		switch i % 3 {
		case 0:
			ng.epb(r)
		case 1:
			ng.pb(r)
		default:
			ng.spb(r)
		}
	}
	for _, tc := range []struct {
		name    string
		file    []byte
		minGap  uintptr // bytes between a packet's data and the next's (pcapng: trailer, options, header)
		maxGap  uintptr
		hasTime func(int) bool
	}{
		{"pcap", classicFile(le, false, 1, 65535, recs...), 16, 16, func(int) bool { return true }},
		{"pcapng", ng.b, 12 + 4, 64, func(i int) bool { return i%3 != 2 }},
	} {
		for _, size := range []int{0, 256} {
			src, err := NewReaderWith(bytes.NewReader(tc.file), Options{BufferSize: size})
			if err != nil {
				t.Fatal(err)
			}
			var prevEnd uintptr
			for i, r := range recs {
				p, err := src.Next()
				if err != nil {
					t.Fatalf("%s, buffer %d: record %d: %v", tc.name, size, i, err)
				}
				if !bytes.Equal(p.Data, r.data) || tc.hasTime(i) && p.Timestamp.Unix() != int64(r.sec) {
					t.Fatalf("%s, buffer %d: record %d: wrong data or time", tc.name, size, i)
				}
				if size != 0 {
					continue // most records straddle the buffer: copied
				}
				start := uintptr(unsafe.Pointer(unsafe.SliceData(p.Data)))
				if gap := start - prevEnd; i > 0 && (start < prevEnd || gap < tc.minGap || gap > tc.maxGap) {
					t.Fatalf("%s: record %d: data at %#x, %d bytes after the previous record's data (want %d to %d): copied", tc.name, i, start, int64(start)-int64(prevEnd), tc.minGap, tc.maxGap)
				}
				if cap(p.Data) != len(p.Data) {
					t.Fatalf("%s: record %d: capacity %d past its %d bytes", tc.name, i, cap(p.Data), len(p.Data))
				}
				prevEnd = start + uintptr(len(p.Data))
			}
			if _, err := src.Next(); err != io.EOF {
				t.Fatalf("%s, buffer %d: %v at the end, want io.EOF", tc.name, size, err)
			}
			src.Close()
		}
	}
}

func benchmarkNext(b *testing.B, file []byte) {
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		src, err := NewReader(bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := src.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkNextPcap(b *testing.B)   { benchmarkNext(b, manyPackets(false, 20000)) }
func BenchmarkNextPcapng(b *testing.B) { benchmarkNext(b, manyPackets(true, 20000)) }

// TestGzipInflateRatio: a gzip file that decompresses to more than
// MaxInflateRatio bytes per byte of the file (plus 1 MiB) stops with
// ErrInflateRatio, after the packets decompressed before; under a ratio
// it does not reach, it reads to its end. 4 MiB of zero-filled packets
// gzip to about 4 kB: about 1 000:1, under the default (no gzip file
// reaches it).
func TestGzipInflateRatio(t *testing.T) {
	var recs []rec
	zero := make([]byte, 4000)
	for i := 0; i < 1024; i++ {
		recs = append(recs, rec{sec: uint32(i), data: zero})
	}
	z := gzipped(classicFile(le, false, 1, 65535, recs...))
	for _, tc := range []struct {
		ratio int
		stop  bool
	}{{5, true}, {200, true}, {0, false}, {DefaultMaxInflateRatio, false}, {5000, false}} {
		src, err := NewReaderWith(bytes.NewReader(z), Options{MaxInflateRatio: tc.ratio})
		if err != nil {
			t.Fatal(err)
		}
		pkts, err := readAll(t, src)
		if !tc.stop {
			if err != nil || len(pkts) != len(recs) {
				t.Errorf("ratio %d: %d of %d packets, %v", tc.ratio, len(pkts), len(recs), err)
			}
			continue
		}
		if !errors.Is(err, ErrInflateRatio) || len(pkts) < 200 || len(pkts) == len(recs) {
			t.Errorf("ratio %d (%d bytes of gzip): %d of %d packets, %v; want ErrInflateRatio after some", tc.ratio, len(z), len(pkts), len(recs), err)
		}
	}
}
