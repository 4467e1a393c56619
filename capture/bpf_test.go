package capture

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
)

// pkt describes a synthetic packet for the filter tests.
type pkt struct {
	src, dst      string // "addr:port"
	udp           bool   // UDP instead of TCP
	vlan          uint16 // ethertype of one tag (0x8100 or 0x88a8), 0 for none
	ipOptions     bool   // IPv4 header with options (IHL 6)
	laterFragment bool   // IPv4 fragment at a non-zero offset
}

// frame builds the Ethernet frame of p.
func (p pkt) frame(t *testing.T) []byte {
	t.Helper()
	src, dst := netip.MustParseAddrPort(p.src), netip.MustParseAddrPort(p.dst)
	eth := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}}
	ls := []gopacket.SerializableLayer{eth}
	var ip gopacket.NetworkLayer
	proto := layers.IPProtocolTCP
	if p.udp {
		proto = layers.IPProtocolUDP
	}
	var etype layers.EthernetType
	if src.Addr().Is4() {
		etype = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		if p.ipOptions {
			ip4.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
		}
		if p.laterFragment {
			ip4.FragOffset = 185
		}
		ip = ip4
	} else {
		etype = layers.EthernetTypeIPv6
		ip = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	}
	if p.vlan != 0 {
		eth.EthernetType = layers.EthernetType(p.vlan)
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: 42, Type: etype})
	} else {
		eth.EthernetType = etype
	}
	ls = append(ls, ip.(gopacket.SerializableLayer))
	if p.udp {
		u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		u.SetNetworkLayerForChecksum(ip)
		ls = append(ls, u)
	} else {
		tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), ACK: true, Window: 512}
		tcp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, tcp)
	}
	ls = append(ls, gopacket.Payload("hello"))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// run reports whether the program compiled from expr for link accepts data.
func run(t *testing.T, expr string, link LinkType, data []byte) bool {
	t.Helper()
	f, err := ParseFilter(expr)
	if err != nil {
		t.Fatalf("ParseFilter(%q): %v", expr, err)
	}
	prog, err := CompileFilter(f, link)
	if err != nil {
		t.Fatalf("CompileFilter(%q): %v", expr, err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("%q: %v\n%v", expr, err, prog)
	}
	n, err := vm.Run(data)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	return n > 0
}

func TestBPFFilterMatches(t *testing.T) {
	const (
		c4 = "10.0.0.1:40000"
		s4 = "10.0.0.2:8080"
		o4 = "10.9.9.9:443"
		c6 = "[2001:db8::1]:40000"
		s6 = "[2001:db8::2]:8080"
		o6 = "[2001:db8::1:2]:443"
	)
	cases := []struct {
		expr string
		p    pkt
		want bool
	}{
		{"", pkt{src: c4, dst: s4, udp: true}, true},
		{"tcp", pkt{src: c4, dst: s4}, true},
		{"tcp", pkt{src: c4, dst: s4, udp: true}, false},
		{"tcp", pkt{src: c6, dst: s6}, true},
		{"tcp", pkt{src: c6, dst: s6, udp: true}, false},

		{"port 8080", pkt{src: c4, dst: s4}, true},
		{"port 8080", pkt{src: s4, dst: c4}, true},
		{"tcp port 8080", pkt{src: c4, dst: o4}, false},
		{"port 8080", pkt{src: c4, dst: s4, udp: true}, false},
		{"port 8080", pkt{src: c4, dst: s4, ipOptions: true}, true},
		{"port 40001", pkt{src: c4, dst: s4, ipOptions: true}, false},
		{"port 8080", pkt{src: c4, dst: s4, laterFragment: true}, false},
		{"port 8080", pkt{src: c6, dst: s6}, true},
		{"port 8080", pkt{src: s6, dst: c6}, true},
		{"port 8080", pkt{src: c6, dst: o6}, false},
		{"port 8080", pkt{src: c4, dst: s4, vlan: 0x8100}, true},
		{"port 8080", pkt{src: c6, dst: s6, vlan: 0x88a8}, true},
		{"port 443", pkt{src: c4, dst: s4, vlan: 0x8100}, false},
		{"src port 8080", pkt{src: s4, dst: c4}, true},
		{"src port 8080", pkt{src: c4, dst: s4}, false},
		{"tcp dst port 8080", pkt{src: c4, dst: s4}, true},
		{"dst port 8080", pkt{src: s6, dst: c6}, false},

		{"host 10.0.0.2", pkt{src: c4, dst: s4}, true},
		{"host 10.0.0.2", pkt{src: s4, dst: c4}, true},
		{"host 10.0.0.2", pkt{src: c4, dst: o4}, false},
		{"host 10.0.0.2", pkt{src: c4, dst: s4, udp: true}, false},
		{"host ::ffff:10.0.0.2", pkt{src: c4, dst: s4}, true},
		{"host 10.0.0.2", pkt{src: c4, dst: s4, vlan: 0x8100}, true},
		{"host 10.0.0.2", pkt{src: c6, dst: s6}, false},
		{"host 2001:db8::2", pkt{src: c6, dst: s6}, true},
		{"host 2001:db8::2", pkt{src: s6, dst: c6}, true},
		{"host 2001:db8::2", pkt{src: c6, dst: o6}, false},
		{"host 2001:db8::2", pkt{src: c6, dst: s6, vlan: 0x8100}, true},
		{"host 2001:db8::2", pkt{src: c4, dst: s4}, false},
		{"src host 2001:db8::2", pkt{src: c6, dst: s6}, false},
		{"dst host 2001:db8::2", pkt{src: c6, dst: s6}, true},
		{"src host 10.0.0.1", pkt{src: c4, dst: s4}, true},
		{"dst host 10.0.0.1", pkt{src: c4, dst: s4}, false},

		{"host 10.0.0.2 and port 8080", pkt{src: c4, dst: s4}, true},
		{"host 10.0.0.2 and port 443", pkt{src: c4, dst: s4}, false},
		{"host 10.0.0.3 and port 8080", pkt{src: c4, dst: s4}, false},
		{"tcp and host 2001:db8::2 and port 8080", pkt{src: s6, dst: c6}, true},
		{"port 80 or port 8080", pkt{src: c4, dst: s4}, true},
		{"port 80 or port 443", pkt{src: c4, dst: s4}, false},
		{"port 80 or 8080", pkt{src: c6, dst: s6}, true},
		{"port 80 || port 443", pkt{src: c4, dst: o4}, true},
		{"host 10.0.0.7 or host 10.0.0.2", pkt{src: c4, dst: s4}, true},
		{"host 10.0.0.7 or 2001:db8::2", pkt{src: c6, dst: s6}, true},
		{"host 10.0.0.7 or host 2001:db8::7", pkt{src: c6, dst: s6}, false},
		{"(port 80 or port 8080) and host 10.0.0.2", pkt{src: c4, dst: s4}, true},
		{"port 80 or port 8080 and host 10.0.0.2", pkt{src: c4, dst: s4}, true},
		{"port 80 or port 8080 and host 10.0.0.9", pkt{src: c4, dst: s4}, false},
		{"host 10.0.0.9 or port 8080", pkt{src: c4, dst: s4}, true},
		{"host 10.0.0.2 && (port 80 or port 443)", pkt{src: c4, dst: s4}, false},
		{"src port 40000 and dst port 8080", pkt{src: c4, dst: s4}, true},
		{"src port 40000 and dst port 8080", pkt{src: s4, dst: c4}, false},
	}
	for _, tc := range cases {
		eth := tc.p.frame(t)
		if got := run(t, tc.expr, LinkEthernet, eth); got != tc.want {
			t.Errorf("ethernet %q on %+v: match %v, want %v", tc.expr, tc.p, got, tc.want)
		}
		if tc.p.vlan != 0 {
			continue
		}
		// The same packet as a SOCK_DGRAM socket sees it: from the IP header.
		if got := run(t, tc.expr, LinkRaw, eth[14:]); got != tc.want {
			t.Errorf("raw %q on %+v: match %v, want %v", tc.expr, tc.p, got, tc.want)
		}
	}
}

func TestBPFFilterShortPackets(t *testing.T) {
	// Loads past the end make the kernel (and the VM) reject the packet.
	full := pkt{src: "10.0.0.1:1", dst: "10.0.0.2:80"}.frame(t)
	for _, n := range []int{0, 1, 12, 14, 20, 34, 35, 36} {
		if run(t, "port 80", LinkEthernet, full[:n]) {
			t.Errorf("%d bytes accepted", n)
		}
	}
	if run(t, "tcp", LinkEthernet, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x06}) {
		t.Error("ARP accepted")
	}
}

func TestParseFilterRefuses(t *testing.T) {
	for _, expr := range []string{
		"udp port 53",
		"not port 22",
		"port",
		"port http",
		"port 70000",
		"host example.com",
		"host fe80::1%eth0",
		"net 10.0.0.0/8",
		"(port 80",
		"port 80)",
		"host 10.0.0.1 and port 80 or port 443",
		"tcp or port 80",
		"port 80 and",
		"src",
		"src net 10.0.0.0/8",
		"ip6 and port 80",
	} {
		_, err := ParseFilter(expr)
		if err == nil {
			t.Errorf("%q: no error", expr)
			continue
		}
		if !strings.Contains(err.Error(), "supported filters:") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %q does not say what is supported on one line", expr, err)
		}
	}
}

func TestParseFilterString(t *testing.T) {
	cases := map[string]string{
		"":                                     "",
		"tcp":                                  "tcp",
		"tcp port 80":                          "tcp and port 80",
		"port 80 or 443":                       "tcp and (port 80 or port 443)",
		"host 10.0.0.1 and port 80":            "tcp and host 10.0.0.1 and port 80",
		"port 80 or port 443 and src host ::1": "tcp and (port 80 or port 443) and src host ::1",
	}
	for expr, want := range cases {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if got := f.String(); got != want {
			t.Errorf("%q: String() = %q, want %q", expr, got, want)
		}
		g, err := ParseFilter(f.String())
		if err != nil || g.String() != want {
			t.Errorf("%q: does not round-trip: %v %q", expr, err, g.String())
		}
	}
	// Trailing arguments are joined as tcpdump joins them.
	f, err := ParseFilter("tcp", "port", "80")
	if err != nil || f.String() != "tcp and port 80" {
		t.Errorf("args: %v %q", err, f)
	}
}

func TestBPFFilterLong(t *testing.T) {
	// Many IPv6 hosts in one clause exceed a conditional jump's reach.
	var args []string
	for i := 0; i < 40; i++ {
		if i > 0 {
			args = append(args, "or")
		}
		args = append(args, "host", netip.AddrFrom16([16]byte{0x20, 1, 0xd, 0xb8, 15: byte(i)}).String())
	}
	f, err := ParseFilter(args...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CompileFilter(f, LinkEthernet); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("err = %v, want too long", err)
	}
	// Twelve fit.
	f.Clauses[0] = f.Clauses[0][:12]
	prog, err := CompileFilter(f, LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bpf.NewVM(prog); err != nil {
		t.Fatal(err)
	}
}

func TestAndAny(t *testing.T) {
	f, err := ParseFilter("tcp")
	if err == nil {
		f, err = f.AndAny("host", "--host", []string{"10.0.0.1", "10.0.0.2"})
	}
	if err == nil {
		f, err = f.AndAny("port", "--port", []string{"80"})
	}
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseFilter("tcp", "and", "(", "host", "10.0.0.1", "or", "host", "10.0.0.2", ")", "and", "port", "80")
	if err != nil {
		t.Fatal(err)
	}
	if f.String() != want.String() {
		t.Errorf("%s, want %s", f, want)
	}
	if _, err := f.AndAny("port", "--port", []string{"80 or 443"}); err == nil || !strings.Contains(err.Error(), `--port "80 or 443"`) {
		t.Errorf("two values in one --port: %v", err)
	}
	if g, _ := f.AndAny("host", "--host", nil); g.String() != f.String() {
		t.Errorf("no value: %s", g)
	}
}
