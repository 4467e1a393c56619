package reassembly

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// nflogTLV is one NFLOG attribute: length and type in order, the value,
// padding to 4 bytes.
func nflogTLV(order binary.ByteOrder, typ uint16, value []byte) []byte {
	b := make([]byte, 4, 4+len(value)+3)
	order.PutUint16(b[0:2], uint16(4+len(value)))
	order.PutUint16(b[2:4], typ)
	b = append(b, value...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// nflogRecord is an NFLOG record as the kernel writes it: packet header
// (hw protocol, hook), prefix, an interface, the payload, in order.
func nflogRecord(order binary.ByteOrder, family byte, payload []byte) []byte {
	return linkCat([]byte{family, 0, 0, 7},
		nflogTLV(order, 1, []byte{0x08, 0, 3, 0}),
		nflogTLV(order, 10, []byte("ws\x00")),
		nflogTLV(order, 4, []byte{0, 0, 0, 1}),
		nflogTLV(order, 9, payload))
}

func TestLinkSerialAndNFLOG(t *testing.T) {
	v4, v6 := linkIPv4Packet, linkIPv6Packet
	le, be := binary.LittleEndian, binary.BigEndian
	v4odd := linkCat(v4, []byte{0xaa}) // a length that needs padding
	tests := []struct {
		name string
		link uint32
		data []byte
		want []byte // nil: ok=false
	}{
		{"ppp ff03 ipv4", 9, linkCat([]byte{0xff, 0x03, 0x00, 0x21}, v4), v4},
		{"ppp ff03 ipv6", 9, linkCat([]byte{0xff, 0x03, 0x00, 0x57}, v6), v6},
		{"ppp no address/control", 9, linkCat([]byte{0x00, 0x21}, v4), v4},
		{"ppp protocol compressed", 9, linkCat([]byte{0x21}, v4), v4},
		{"ppp ff03, protocol compressed", 9, linkCat([]byte{0xff, 0x03, 0x57}, v6), v6},
		{"ppp lcp", 9, linkCat([]byte{0xff, 0x03, 0xc0, 0x21}, v4), nil},
		{"ppp ipcp", 9, linkCat([]byte{0x80, 0x21}, v4), nil},
		{"ppp says ipv4, holds ipv6", 9, linkCat([]byte{0x00, 0x21}, v6), nil},
		{"ppp ff only", 9, []byte{0xff}, nil},
		{"ppp ff03 only", 9, []byte{0xff, 0x03}, nil},
		{"ppp one even byte", 9, []byte{0x00}, nil},
		{"ppp protocol, nothing after", 9, []byte{0x00, 0x21}, nil},
		{"ppp empty", 9, nil, nil},
		{"ppp cisco hdlc inside", 9, linkCat([]byte{0x0f, 0, 0x08, 0}, v4), v4},
		{"ppp_hdlc ipv4", 50, linkCat([]byte{0xff, 0x03, 0x00, 0x21}, v4), v4},
		{"ppp_hdlc ipv6 compressed", 50, linkCat([]byte{0xff, 0x03, 0x57}, v6), v6},
		{"ppp_hdlc cisco unicast", 50, linkCat([]byte{0x0f, 0, 0x86, 0xdd}, v6), v6},
		{"ppp_hdlc cisco multicast", 50, linkCat([]byte{0x8f, 0, 0x08, 0}, v4), v4},
		{"ppp_hdlc cisco truncated", 50, []byte{0x0f, 0, 0x08}, nil},

		{"c_hdlc ipv4", 104, linkCat([]byte{0x0f, 0, 0x08, 0}, v4), v4},
		{"c_hdlc ipv6", 104, linkCat([]byte{0x0f, 0, 0x86, 0xdd}, v6), v6},
		{"c_hdlc multicast", 104, linkCat([]byte{0x8f, 0, 0x08, 0}, v4), v4},
		{"c_hdlc mpls", 104, linkCat([]byte{0x0f, 0, 0x88, 0x47, 0, 0x10, 1, 64}, v6), v6},
		{"c_hdlc slarp", 104, linkCat([]byte{0x8f, 0, 0x80, 0x35}, make([]byte, 20)), nil},
		{"c_hdlc cdp", 104, linkCat([]byte{0x8f, 0, 0x20, 0x00}, v4), nil},
		{"c_hdlc says ipv6, holds ipv4", 104, linkCat([]byte{0x0f, 0, 0x86, 0xdd}, v4), nil},
		{"c_hdlc header only", 104, []byte{0x0f, 0, 0x08, 0}, nil},
		{"c_hdlc truncated", 104, []byte{0x0f, 0, 0x08}, nil},

		{"nflog le ipv4", 239, nflogRecord(le, 2, v4), v4},
		{"nflog big-endian attributes (capture swaps a big-endian file's)", 239, nflogRecord(be, 2, v4), nil},
		{"nflog le ipv6", 239, nflogRecord(le, 10, v6), v6},
		{"nflog payload padded", 239, nflogRecord(le, 2, v4odd), v4odd},
		{"nflog payload only", 239, linkCat([]byte{2, 0, 0, 1}, nflogTLV(le, 9, v4)), v4},
		{"nflog nested flag on the type", 239, linkCat([]byte{2, 0, 0, 1}, nflogTLV(le, 0x8009, v4)), v4},
		{"nflog last payload wins", 239, linkCat(nflogRecord(le, 2, v6), nflogTLV(le, 9, v4)), v4},
		{"nflog family says ipv4, holds ipv6", 239, nflogRecord(le, 2, v6), nil},
		{"nflog family says ipv6, holds ipv4", 239, nflogRecord(le, 10, v4), nil},
		{"nflog unknown family", 239, nflogRecord(le, 7, v4), nil},
		{"nflog bsd inet6 family", 239, nflogRecord(le, 28, v6), nil},
		{"nflog no payload", 239, linkCat([]byte{2, 0, 0, 1}, nflogTLV(le, 1, []byte{8, 0, 3, 0})), nil},
		{"nflog empty payload", 239, linkCat([]byte{2, 0, 0, 1}, nflogTLV(le, 9, nil)), nil},
		{"nflog header only", 239, []byte{2, 0, 0, 1}, nil},
		{"nflog truncated header", 239, []byte{2, 0, 0}, nil},
		{"nflog empty", 239, nil, nil},
		{"nflog payload cut short", 239, nflogRecord(le, 2, v4)[:len(nflogRecord(le, 2, v4))-4], nil},
		{"nflog payload length past the end", 239, linkCat([]byte{2, 0, 0, 1}, []byte{0xff, 0x7f, 9, 0}, v4), nil},
		{"nflog length past the end after the payload", 239, linkCat(nflogRecord(le, 2, v4), []byte{8, 0, 1, 0}), nil},
		{"nflog version 1 read as 0", 239, linkCat([]byte{2, 1, 0, 1}, nflogTLV(le, 9, v4)), v4},
		{"nflog byte-order flag on the type", 239, linkCat([]byte{2, 0, 0, 1}, nflogTLV(le, 0x4009, v4)), nil},
		// Hostile lengths: under the attribute header, zero, odd.
		{"nflog length 0 before payload", 239, linkCat([]byte{2, 0, 0, 1}, []byte{0, 0, 1, 0}, nflogTLV(le, 9, v4)), nil},
		{"nflog length 3 before payload", 239, linkCat([]byte{2, 0, 0, 1}, []byte{3, 0, 1, 0}, nflogTLV(le, 9, v4)), nil},
		{"nflog length 0 after payload", 239, linkCat(nflogRecord(le, 2, v4), []byte{0, 0, 1, 0}), nil},
		{"nflog length 2 after payload", 239, linkCat(nflogRecord(le, 2, v4), []byte{2, 0, 1, 0}), nil},
		{"nflog trailing 3 bytes", 239, linkCat(nflogRecord(le, 2, v4), []byte{0, 0, 1}), v4},
		{"nflog attribute of length 4", 239, linkCat([]byte{2, 0, 0, 1}, []byte{4, 0, 12, 0}, nflogTLV(le, 9, v4)), v4},
		{"nflog odd length 5 pads to 8", 239, linkCat([]byte{2, 0, 0, 1}, []byte{5, 0, 12, 0, 1, 0, 0, 0}, nflogTLV(le, 9, v4)), v4},
		{"nflog only type-0 attributes", 239, linkCat([]byte{2, 0, 0, 1}, []byte{4, 0, 0, 0}, []byte{4, 0, 0, 0}), nil},
	}
	for _, tc := range tests {
		got, ok := NetworkPayload(tc.link, tc.data)
		if ok != (tc.want != nil) || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got % x, %v; want % x", tc.name, got, ok, tc.want)
			continue
		}
		if ok && !aliases(tc.data, got) {
			t.Errorf("%s: result does not alias the input", tc.name)
		}
		if ok && !SupportedLink(tc.link) {
			t.Errorf("%s: decoded, but SupportedLink(%d) is false", tc.name, tc.link)
		}
	}
}

// aliases reports whether sub is a slice of data's bytes.
func aliases(data, sub []byte) bool {
	for i := 0; i+len(sub) <= len(data); i++ {
		if &data[i] == &sub[0] {
			return true
		}
	}
	return false
}

func TestLinkSerialNoAllocs(t *testing.T) {
	frames := []struct {
		link uint32
		data []byte
	}{
		{9, linkCat([]byte{0xff, 0x03, 0x00, 0x21}, linkIPv4Packet)},
		{50, linkCat([]byte{0x0f, 0, 0x86, 0xdd}, linkIPv6Packet)},
		{104, linkCat([]byte{0x0f, 0, 0x08, 0}, linkIPv4Packet)},
		{239, nflogRecord(binary.LittleEndian, 2, linkIPv4Packet)},
		{239, nflogRecord(binary.LittleEndian, 10, linkIPv6Packet)},
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, f := range frames {
			if _, ok := NetworkPayload(f.link, f.data); !ok {
				t.Fatal("not decoded")
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}
