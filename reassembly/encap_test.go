package reassembly

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TestEncapNames: the encapsulation of a SYN in each of synth's tunnels
// and tenants, read from the synthetic headers' values (the GRE key
// field 0xa5a5a5a5, a PPTP call id 0xa5a5, VXLAN-GPE's VNI 42, GENEVE's
// 7, ERSPAN session 7, the raw stack 00100/00200 of "mpls"); every tunnel
// has its row, so a new one needs a decision here.
func TestEncapNames(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"ip in ip": "ipip", "ip in ipv6": "ipip",
		"gre ip, checksum key sequence": "gre:2779096485", "gretap": "gre:2779096485",
		"erspan I": "gre", "erspan II": "gre/erspan:7", "erspan III, subheader": "gre/erspan:7", "erspan III ip": "gre/erspan:7",
		"vxlan": "vxlan:42", "vxlan from its port, over ipv6": "vxlan:42",
		"vxlan-gpe ip": "vxlan-gpe:42", "vxlan-gpe ethernet": "vxlan-gpe:42",
		"geneve, options": "geneve:7", "geneve ip": "geneve:7",
		"pptp, hdlc": "pptp:42405", "pptp, compressed": "pptp:42405",
		"mpls": "mpls:256.512", synth.PseudowireCW: "mpls:100.200", synth.PseudowireNoCW: "mpls:100",
		synth.PseudowireCWKnownMACs: "mpls:100", "mpls pseudowire, no control word, local addresses": "mpls:100",
		"mpls in ip": "mpls:100", "mpls in udp, pseudowire": "mpls:100",
		"gre mpls pseudowire, routing": "gre:2779096485", "gre nsh, checksum routing": "gre",
		"vxlan-gpe nsh ip": "vxlan-gpe:42", "vxlan-gpe nsh, md type 2, nsh, ethernet": "vxlan-gpe:42",
		"vxlan-gpe mpls": "vxlan-gpe:42", "vxlan-gpe nsh mpls pseudowire": "vxlan-gpe:42",
		"geneve nsh": "geneve:7", "geneve mpls": "geneve:7", "pppoe": "pppoe",
		"ipv6 extension headers, 10": "ipip", // IPv4 in IPv6
		"ipsec ah":                   "",     // AH is no tunnel
		"vxlan in gre in ip in ip":   "ipip/gre/vxlan:42",
	}
	syn := synth.TenantConv("A", 1, 0, 1)[0].Data
	check := func(name string, f []byte, w string) {
		t.Helper()
		var d headerDecoder
		if _, _, ok := d.decode(linkTypeEthernet, f, len(f), time.Time{}, &Stats{}); !ok {
			t.Errorf("%s: not decoded", name)
		}
		if g := string(d.encap(nil)); g != w {
			t.Errorf("%s: encap %q, want %q", name, g, w)
		}
	}
	for _, tc := range synth.Tunnels {
		w, ok := want[tc.Name]
		if !ok {
			t.Errorf("%s: no row", tc.Name)
			continue
		}
		check(tc.Name, tc.Wrap(syn), w)
	}
	check("plain", syn, "")
	check("vlan", synth.VLAN(10, syn), "vlan:10")
	check("qinq", synth.VLAN(100, synth.VLAN(10, syn)), "vlan:100/vlan:10")
	check("vxlan in a vlan", synth.VLAN(5, synth.VXLAN(100, syn)), "vlan:5/vxlan:100")
	check("vlan 4095 in vxlan 2^24-1", synth.VLAN(4095, synth.VXLAN(1<<24-1, syn)), "vlan:4095/vxlan:16777215")
	check("gre key 0", synth.GREKeyed(0, syn), "gre:0")
	check("mpls, 9 labels", synth.Ether(0x8847, synth.MPLS([]uint32{1, 2, 3, 4, 5, 6, 7, 8, 9}, syn[14:])), "mpls:1.2.3.4.5.6.7.8")
	// A hostile stack of VLAN tags (a frame of them: thousands) is
	// named as far as an MPLS stack: each name is kept for the process
	// (wsparse.EncapID), 65 536 of them at 20 KB each would be 1.3 GB.
	f := syn
	for id := 2000; id > 0; id-- {
		f = synth.VLAN(uint16(id), f)
	}
	check("qinq, 2000 tags", f, "vlan:1/vlan:2/vlan:3/vlan:4/vlan:5/vlan:6/vlan:7/vlan:8")
}

// TestEncapTenants: the two conversations on one 4-tuple in two tenants
// (TestTenantsApart's "at once") carry each its own tenant's
// encapsulation in every record, -j 1 and -j 2; a mirror's copies are
// one connection, the first copy's.
func TestEncapTenants(t *testing.T) {
	t.Parallel()
	want := map[string][2]string{"vlan": {"vlan:10", "vlan:20"}, "vxlan": {"vxlan:100", "vxlan:200"}, "gre key": {"gre:1", "gre:2"}}
	for _, ten := range synth.Tenants {
		in := func(n int) func([]byte) []byte { return func(f []byte) []byte { return ten.Wrap(n, f) } }
		apart := synth.ByTime(synth.Wrapped(synth.TenantConv("A", 0x10000000, 0, 3), 0, in(1)),
			synth.Wrapped(synth.TenantConv("B", 0x70000000, 0, 3), 500*time.Microsecond, in(2)))
		a := synth.TenantConv("A", 0x10000000, 0, 3)
		mirrored := synth.ByTime(synth.Wrapped(a, 0, in(1)), synth.Wrapped(a, 10*time.Microsecond, in(2)))
		for _, jobs := range []int{1, 2} {
			for _, tc := range []struct {
				name string
				pkts []synth.Packet
				want map[int]string
			}{
				{"apart", apart, map[int]string{1: want[ten.Name][0], 2: want[ten.Name][1]}},
				{"mirrored", mirrored, map[int]string{1: want[ten.Name][0]}},
			} {
				got := map[int]map[string]int{}
				decodeAll(record.Func(func(r *record.Record) {
					if r.Conn == nil {
						return
					}
					if got[r.Conn.ID] == nil {
						got[r.Conn.ID] = map[string]int{}
					}
					got[r.Conn.ID][fmt.Sprint(r.Kind, " ", r.Conn.Encap())]++
				}), tc.pkts, Options{}, jobs)
				if len(got) != len(tc.want) {
					t.Errorf("%s %s -j %d: connections %v", ten.Name, tc.name, jobs, got)
				}
				for id, w := range tc.want {
					for k := range got[id] {
						if k[len(k)-len(w)-1:] != " "+w {
							t.Errorf("%s %s -j %d: conn %d: records %v, want encap %q", ten.Name, tc.name, jobs, id, got[id], w)
						}
					}
					if len(got[id]) < 3 { // handshake, message, end at least
						t.Errorf("%s %s -j %d: conn %d: records %v", ten.Name, tc.name, jobs, id, got[id])
					}
				}
			}
		}
	}
}

// TestEncapFragments: a conversation in VLAN 20 whose every packet, its
// SYN too, is cut into IP fragments: a Parallel worker gets the
// datagrams without their frame (linkTypeRaw), and its connection the
// encapsulation Parallel read from the last fragment's, as an Assembler
// reads it.
func TestEncapFragments(t *testing.T) {
	t.Parallel()
	var pkts []synth.Packet
	for i, p := range synth.TenantConv("B", 0x70000000, 0, 3) {
		for _, f := range synth.FragmentIP(p.Data[14:], 16, uint32(100+i)) {
			pkts = append(pkts, synth.Packet{TS: p.TS, Data: synth.VLAN(20, synth.Ether(0x0800, f))})
		}
	}
	for _, jobs := range []int{1, 2} {
		got := map[string]int{}
		st := decodeAll(record.Func(func(r *record.Record) {
			if r.Conn != nil {
				got[fmt.Sprint(r.Conn.ID, " ", r.Conn.Encap())]++
			}
		}), pkts, Options{}, jobs).Stats()
		if len(got) != 1 || got["1 vlan:20"] < 3 || st.Defragmented == 0 {
			t.Errorf("-j %d: records by connection and encap %v, %d datagrams defragmented", jobs, got, st.Defragmented)
		}
	}
}

// TestEncapEvicted: connections in VLAN 7, more open at once than
// --max-connections, so that some are evicted and parked, some ended
// early and go on (resumed): each record of each says vlan:7 with -j 1,
// 2 and 3, and the records are the same. A Parallel worker told the
// merge a resumed connection's encapsulation before it had read it.
func TestEncapEvicted(t *testing.T) {
	t.Parallel()
	var pkts []synth.Packet
	for _, p := range crowd(25) {
		pkts = append(pkts, synth.Packet{TS: p.TS, Data: synth.VLAN(7, p.Data)})
	}
	var first []string
	for _, jobs := range []int{1, 2, 3} {
		var got []string
		bad := map[string]int{}
		st := decodeAll(record.Func(func(r *record.Record) {
			if r.Conn == nil {
				return
			}
			got = append(got, fmt.Sprint(r.Kind, " ", r.Conn.ID, " ", r.Conn.Encap()))
			if r.Conn.Encap() != "vlan:7" {
				bad[fmt.Sprint(r.Kind)]++
			}
		}), pkts, Options{MaxConnections: 10}, jobs).Stats()
		if st.Resumed == 0 || st.Parked == 0 {
			t.Fatalf("-j %d: %d resumed, %d parked: want some of each", jobs, st.Resumed, st.Parked)
		}
		if len(bad) > 0 {
			t.Errorf("-j %d: records without vlan:7 by kind: %v (of %d)", jobs, bad, len(got))
		}
		if first == nil {
			first = got
		} else if !slices.Equal(got, first) {
			t.Errorf("-j %d: records differ from -j 1's", jobs)
		}
	}
}

// TestEncapsFull: 65 540 connections, each in its own pair of VLANs
// (QinQ), in a process of their own (the names are kept process-wide:
// the other tests' would be past the bound too): the first 65 536 are
// named, the last 4 are "…" and counted in Stats.EncapsFull, for
// WriteLimitNotices' line (a limit hit is never silent).
func TestEncapsFull(t *testing.T) {
	const n = 65540
	if os.Getenv("WSDUMP_ENCAPS_FULL") != "1" {
		t.Parallel()
		cmd := exec.Command(os.Args[0], "-test.run=^TestEncapsFull$", "-test.v")
		cmd.Env = append(os.Environ(), "WSDUMP_ENCAPS_FULL=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestEncapsFull") {
			t.Fatalf("%v: %s", err, out)
		}
		return
	}
	syn := synth.TenantConv("A", 1, 0, 1)[0].Data
	a := New(record.Func(func(*record.Record) {}), Options{MaxConnections: 2 * n})
	for i := range n {
		s := slices.Clone(syn) // its own client: 10.0.x.y:40000+i%20000
		s[28], s[29], s[34], s[35] = byte(i>>16), byte(i>>8), byte((40000+i%20000)>>8), byte(40000+i%20000)
		f := synth.VLAN(uint16(1+i%4000), synth.VLAN(uint16(1+i/4000), s))
		a.Packet(1, f, time.Unix(0, int64(i)*1000), len(f))
	}
	a.Finish()
	if st := a.Stats(); st.EncapsFull != 4 || st.Connections != n {
		t.Errorf("%d connections, %d past the names; want %d, 4", st.Connections, st.EncapsFull, n)
	}
	if name := wsparse.EncapName(wsparse.EncapID("vlan:4001/vlan:1")); name != wsparse.EncapOverflow {
		t.Errorf("a new name past the bound is %q", name)
	}
}
