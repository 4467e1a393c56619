package capture

import (
	"bytes"
	"strings"
	"testing"
)

// nflogRec is an NFLOG record with its attributes' length and type in
// order: the packet header, a prefix of odd length, the payload.
func nflogRec(order byteOrder, payload []byte) []byte {
	b := []byte{2, 0, 0, 5}
	for _, a := range []struct {
		typ uint16
		v   []byte
	}{{1, []byte{8, 0, 3, 0}}, {10, []byte("ws\x00")}, {9, payload}} {
		b = order.AppendUint16(b, uint16(4+len(a.v)))
		b = order.AppendUint16(b, a.typ)
		b = pad4(append(b, a.v...))
	}
	return b
}

// TestNFLOGByteOrder: NFLOG records come out little-endian from files and
// pcapng sections of either byte order, through the read buffer and
// without it; records of other link types are left as they are.
func TestNFLOGByteOrder(t *testing.T) {
	pl := payload(7, 41)
	leRec, beRec := nflogRec(le, pl), nflogRec(be, pl)
	other := beRec // an Ethernet frame that happens to hold the same bytes
	f := &ngFile{}
	f.shb(le).idb(uint16(LinkNFLOG), 0).idb(uint16(LinkEthernet), 0).
		epb(rec{iface: 0, data: leRec}).epb(rec{iface: 1, data: other})
	f.shb(be).idb(uint16(LinkNFLOG), 0).idb(uint16(LinkEthernet), 0).
		epb(rec{iface: 0, data: beRec}).epb(rec{iface: 1, data: other}).spb(rec{data: beRec})
	files := map[string]struct {
		file []byte
		want [][]byte
	}{
		"pcap le":     {classicFile(le, false, uint32(LinkNFLOG), 65535, rec{data: leRec}, rec{data: leRec}), [][]byte{leRec, leRec}},
		"pcap be":     {classicFile(be, false, uint32(LinkNFLOG), 65535, rec{data: beRec}, rec{data: beRec}), [][]byte{leRec, leRec}},
		"pcap be eth": {classicFile(be, false, uint32(LinkEthernet), 65535, rec{data: other}), [][]byte{other}},
		"pcapng":      {f.b, [][]byte{leRec, other, leRec, other, leRec}},
	}
	for name, tc := range files {
		for _, size := range []int{0, 32} { // 32: no record whole in the buffer
			src, err := NewReaderWith(bytes.NewReader(tc.file), Options{BufferSize: size})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, src)
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("%s (buffer %d): %d packets, %v", name, size, len(got), err)
			}
			for i, p := range got {
				if !bytes.Equal(p.Data, tc.want[i]) {
					t.Errorf("%s (buffer %d) packet %d:\n got % x\nwant % x", name, size, i+1, p.Data, tc.want[i])
				}
			}
		}
	}
}

// TestSwapNFLOGHostile: as libpcap, the swap stops at an attribute of
// length 0 or longer than what is left (after swapping its own header),
// and leaves records of a version other than 0; nothing panics or loops.
func TestSwapNFLOGHostile(t *testing.T) {
	h := []byte{2, 0, 0, 5}
	cat := func(p ...[]byte) []byte { return bytes.Join(p, nil) }
	for _, tc := range []struct {
		name      string
		in, want  []byte
		wireExtra int
	}{
		{"length 0", cat(h, []byte{0, 0, 0, 1}, []byte{0, 8, 0, 9}), cat(h, []byte{0, 0, 1, 0}, []byte{0, 8, 0, 9}), 0},
		{"length 2, padded to 4: goes on", cat(h, []byte{0, 2, 0, 1, 0, 8, 0, 9}), cat(h, []byte{2, 0, 1, 0, 8, 0, 9, 0}), 0},
		{"length past the end", cat(h, []byte{0, 4, 0, 1}, []byte{0, 12, 0, 9, 1, 2, 3, 4}), cat(h, []byte{4, 0, 1, 0}, []byte{12, 0, 9, 0, 1, 2, 3, 4}), 0},
		{"length 0xffff", cat(h, []byte{0xff, 0xff, 0, 9, 0, 4, 0, 1}), cat(h, []byte{0xff, 0xff, 9, 0, 0, 4, 0, 1}), 0},
		{"past the original length", cat(h, []byte{0, 8, 0, 1, 1, 2, 3, 4}), cat(h, []byte{8, 0, 1, 0, 1, 2, 3, 4}), -1},
		{"version 1", cat([]byte{2, 1, 0, 5}, []byte{0, 4, 0, 1}), cat([]byte{2, 1, 0, 5}, []byte{0, 4, 0, 1}), 0},
		{"header cut", []byte{2, 0, 0}, []byte{2, 0, 0}, 0},
		{"three bytes after the header", cat(h, []byte{0, 4, 0}), cat(h, []byte{0, 4, 0}), 0},
		{"odd length padded", cat(h, []byte{0, 5, 0, 12, 7, 0, 0, 0}, []byte{0, 4, 0, 1}), cat(h, []byte{5, 0, 12, 0, 7, 0, 0, 0}, []byte{4, 0, 1, 0}), 0},
	} {
		b := append([]byte(nil), tc.in...)
		swapNFLOG(b, len(b)+tc.wireExtra)
		if !bytes.Equal(b, tc.want) {
			t.Errorf("%s:\n got % x\nwant % x", tc.name, b, tc.want)
		}
	}
}

// TestCompileFilterRefusesOtherLinks: the live path's compiler says which
// link types it cannot filter, rather than reading their headers as
// Ethernet's; files of those are filtered by a Matcher on the IP packet.
func TestCompileFilterRefusesOtherLinks(t *testing.T) {
	f, err := ParseFilter("tcp port 80")
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []LinkType{LinkNFLOG, LinkPPP, LinkPPPHDLC, LinkCHDLC, LinkLinuxSLL2} {
		if _, err := CompileFilter(f, link); err == nil || !strings.Contains(err.Error(), "link type "+link.String()) {
			t.Errorf("%s: %v", link, err)
		}
	}
}
