package reassembly

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

var (
	linkIPv4Packet = []byte{0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	linkIPv6Packet = append([]byte{0x60, 0, 0, 0, 0, 0, 6, 64}, make([]byte, 32)...)
)

func linkCat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func linkBE16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// ethernetFrame builds an Ethernet header with the given VLAN tag types
// stacked in front of etherType.
func linkEthernetFrame(tags []uint16, etherType uint16, payload []byte) []byte {
	b := make([]byte, 12) // MAC addresses
	for i, tag := range tags {
		b = append(b, linkBE16(tag)...)
		b = append(b, linkBE16(uint16(100+i))...) // TCI of this tag
	}
	return linkCat(b, linkBE16(etherType), payload)
}

func linkSLLFrame(proto uint16, payload []byte) []byte {
	return linkCat([]byte{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0}, linkBE16(proto), payload)
}

func linkSLL2Frame(proto uint16, payload []byte) []byte {
	return linkCat(linkBE16(proto), []byte{0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0}, payload)
}

func linkFamily(order binary.ByteOrder, af uint32, payload []byte) []byte {
	b := make([]byte, 4)
	order.PutUint32(b, af)
	return linkCat(b, payload)
}

func TestLinkNetworkPayload(t *testing.T) {
	v4, v6 := linkIPv4Packet, linkIPv6Packet
	le, be := binary.LittleEndian, binary.BigEndian
	type tc struct {
		name string
		link uint32
		data []byte
		want []byte // nil: ok=false
	}
	tests := []tc{
		{"ethernet ipv4", 1, linkEthernetFrame(nil, 0x0800, v4), v4},
		{"ethernet ipv6", 1, linkEthernetFrame(nil, 0x86dd, v6), v6},
		{"ethernet arp", 1, linkEthernetFrame(nil, 0x0806, make([]byte, 28)), nil},
		{"ethernet lldp", 1, linkEthernetFrame(nil, 0x88cc, make([]byte, 40)), nil},
		{"ethernet 802.3 length", 1, linkEthernetFrame(nil, 46, make([]byte, 46)), nil},
		{"ethernet ipv4 type, ipv6 inside", 1, linkEthernetFrame(nil, 0x0800, v6), nil},
		{"ethernet ipv4 type, no payload", 1, linkEthernetFrame(nil, 0x0800, nil), nil},
		{"ethernet header only 13 bytes", 1, make([]byte, 13), nil},
		{"ethernet empty", 1, nil, nil},
		{"vlan tag cut", 1, linkEthernetFrame(nil, 0x8100, []byte{0, 1, 8}), nil},
		{"vlan tag complete, nothing after", 1, linkEthernetFrame(nil, 0x8100, []byte{0, 1, 8, 0}), nil},
		{"vlan then arp", 1, linkEthernetFrame([]uint16{0x8100}, 0x0806, make([]byte, 28)), nil},

		{"sll ipv4", 113, linkSLLFrame(0x0800, v4), v4},
		{"sll ipv6", 113, linkSLLFrame(0x86dd, v6), v6},
		{"sll vlan ipv4", 113, linkCat(linkSLLFrame(0x8100, []byte{0, 5}), linkBE16(0x0800), v4), v4},
		{"sll arp", 113, linkSLLFrame(0x0806, make([]byte, 28)), nil},
		{"sll truncated", 113, linkSLLFrame(0x0800, nil)[:15], nil},
		{"sll2 ipv4", 276, linkSLL2Frame(0x0800, v4), v4},
		{"sll2 ipv6", 276, linkSLL2Frame(0x86dd, v6), v6},
		{"sll2 unknown protocol", 276, linkSLL2Frame(0x0004, v4), nil},
		{"sll2 truncated", 276, linkSLL2Frame(0x0800, nil)[:19], nil},

		{"raw 101 ipv4", 101, v4, v4},
		{"raw 101 ipv6", 101, v6, v6},
		{"raw 12 ipv4", 12, v4, v4},
		{"raw 14 ipv6", 14, v6, v6},
		{"raw bad version", 101, linkCat([]byte{0x55}, v4[1:]), nil},
		{"raw empty", 101, nil, nil},
		{"ipv4 linktype", 228, v4, v4},
		{"ipv4 linktype with ipv6", 228, v6, nil},
		{"ipv6 linktype", 229, v6, v6},
		{"ipv6 linktype with ipv4", 229, v4, nil},

		{"null le inet", 0, linkFamily(le, 2, v4), v4},
		{"null be inet", 0, linkFamily(be, 2, v4), v4},
		{"null le inet6 netbsd", 0, linkFamily(le, 24, v6), v6},
		{"null le inet6 freebsd", 0, linkFamily(le, 28, v6), v6},
		{"null le inet6 darwin", 0, linkFamily(le, 30, v6), v6},
		{"null be inet6 darwin", 0, linkFamily(be, 30, v6), v6},
		{"null family mismatch", 0, linkFamily(le, 2, v6), nil},
		{"null unknown family", 0, linkFamily(le, 7, v4), nil},
		{"null truncated", 0, []byte{2, 0, 0}, nil},
		{"loop inet", 108, linkFamily(be, 2, v4), v4},
		{"loop inet6", 108, linkFamily(be, 28, v6), v6},
		{"loop little-endian family is not swapped", 108, linkFamily(le, 2, v4), nil},
		{"loop truncated", 108, []byte{0, 0, 0}, nil},

		{"unsupported link type", 147, v4, nil},
	}
	// Every VLAN depth and tag type, up to eight stacked tags.
	for depth := range 9 {
		for _, tag := range []uint16{0x8100, 0x88a8, 0x9100} {
			tags := make([]uint16, depth)
			for i := range tags {
				tags[i] = tag
				if i == depth-1 {
					tags[i] = 0x8100 // the innermost is a C-tag
				}
			}
			frame := linkEthernetFrame(tags, 0x86dd, v6)
			tests = append(tests,
				tc{fmt.Sprintf("vlan depth %d outer %#x", depth, tag), 1, frame, v6},
				tc{fmt.Sprintf("vlan depth %d outer %#x truncated", depth, tag), 1, frame[:14+4*depth-1], nil})
		}
	}
	for _, tc := range tests {
		got, ok := NetworkPayload(tc.link, tc.data)
		if ok != (tc.want != nil) || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got % x, %v; want % x", tc.name, got, ok, tc.want)
		}
		if ok && &got[0] != &tc.data[len(tc.data)-len(got)] {
			t.Errorf("%s: result does not alias the input", tc.name)
		}
		if ok && !SupportedLink(tc.link) {
			t.Errorf("%s: decoded, but SupportedLink(%d) is false", tc.name, tc.link)
		}
	}
}

func TestLinkSupported(t *testing.T) {
	for _, link := range []uint32{0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 228, 229, 239, 276} {
		if !SupportedLink(link) {
			t.Errorf("SupportedLink(%d) = false", link)
		}
	}
	for _, link := range []uint32{2, 10, 20, 51, 105, 127, 147, 166, 192, 204, 0x10000001} {
		if SupportedLink(link) {
			t.Errorf("SupportedLink(%d) = true", link)
		}
	}
}

func TestLinkNetworkPayloadNoAllocs(t *testing.T) {
	frames := []struct {
		link uint32
		data []byte
	}{
		{1, linkEthernetFrame([]uint16{0x88a8, 0x8100}, 0x0800, linkIPv4Packet)},
		{113, linkSLLFrame(0x86dd, linkIPv6Packet)},
		{276, linkSLL2Frame(0x0800, linkIPv4Packet)},
		{0, linkFamily(binary.LittleEndian, 30, linkIPv6Packet)},
		{101, linkIPv4Packet},
		{1, linkEthernetFrame(nil, 0x0806, nil)},
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, f := range frames {
			NetworkPayload(f.link, f.data)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

func BenchmarkNetworkPayload(b *testing.B) {
	frame := linkEthernetFrame([]uint16{0x8100}, 0x0800, linkIPv4Packet)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := NetworkPayload(1, frame); !ok {
			b.Fatal("not decoded")
		}
	}
}
