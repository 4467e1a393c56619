package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestTenantsPastLabels: two conversations on one 4-tuple at once in
// VXLAN 10 and 20, the VXLAN packets carried in an MPLS core (labels
// before their IP header, as a P router's port sees them) or with an
// IPsec AH header after their outer IP one: the tenant is read past those
// as encap names it (mpls:16/vxlan:10; vxlan:10), so each conversation
// is a connection with every message of its own, as without them, and
// reassembly's tenant is wsparse.EncapTenant's. Before, the tenant was
// read no further than an Ethernet MPLS, NSH or PPPoE header, and not
// past AH or IPv6 extension headers: both tenants were none, the
// second SYN ended the first (port reuse) and the rest of both went to
// one connection.
func TestTenantsPastLabels(t *testing.T) {
	t.Parallel()
	overMPLS := func(f []byte) []byte { return synth.Ether(0x8847, synth.MPLS([]uint32{16}, f[14:])) }
	withAH := func(f []byte) []byte {
		ip := f[14:]
		ah := append([]byte{ip[9], 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, make([]byte, 12)...) // next header, length 4 (24 bytes), SPI, sequence, ICV
		out := append(append(append([]byte{}, f[:14+20]...), ah...), ip[20:]...)
		out[14+9] = 51
		n := len(out) - 14
		out[14+2], out[14+3] = byte(n>>8), byte(n)
		return out
	}
	for _, c := range []struct {
		name  string
		outer func([]byte) []byte
		encap string
	}{
		{"mpls", overMPLS, "mpls:16/vxlan:"},
		{"ah", withAH, "vxlan:"},
	} {
		in := func(vni uint32) func([]byte) []byte {
			return func(f []byte) []byte { return c.outer(synth.VXLAN(vni, f)) }
		}
		pkts := synth.ByTime(synth.Wrapped(synth.TenantConv("A", 0x10000000, 0, 5), 0, in(10)),
			synth.Wrapped(synth.TenantConv("B", 0x70000000, 0, 5), 500*time.Microsecond, in(20)))
		var d headerDecoder
		f := pkts[0].Data
		if _, _, ok := d.decode(linkTypeEthernet, f, len(f), time.Time{}, &Stats{}); !ok {
			t.Fatalf("%s: not decoded", c.name)
		}
		e := string(d.encap(nil))
		if e != c.encap+"10" || d.tenant() == 0 || wsparse.EncapTenant(e) != "vxlan:10" {
			t.Errorf("%s: encap %q, tenant %#x; want %q10 and a tenant", c.name, e, d.tenant(), c.encap)
		}
		for _, jobs := range []int{1, 2} {
			l, st := run(pkts, Options{}, jobs)
			if st.Connections != 2 || st.Lanes != 1 {
				t.Errorf("%s, -j %d: %d connections, %d lanes; want 2 and 1", c.name, jobs, st.Connections, st.Lanes)
			}
			for k, name := range []string{"A", "B"} {
				for i := range 5 {
					for _, dir := range []string{"c2s", "s2c"} {
						m := fmt.Sprintf("conn %d 10.0.0.1:40000->10.0.0.2:80 message %s \"%s %c%d\"", k+1, dir, name, dir[0], i)
						if n := l.count(m); n != 1 {
							t.Errorf("%s, -j %d: %s seen %d times", c.name, jobs, m, n)
						}
					}
				}
			}
			if t.Failed() {
				t.Logf("records:\n%s", strings.Join(l.lines, "\n"))
				return
			}
		}
	}
}

// FuzzTenantWords: for any Ethernet frame decoded, reassembly's tenant
// is none exactly when the words of its encap that name a tenant
// (wsparse.EncapTenant) are none, past at most 8 VLAN tags (encap names
// 8; reassembly reads them all), so that a connection's reconnect group
// and its lane are told by the same identifiers.
func FuzzTenantWords(f *testing.F) {
	syn := synth.TenantConv("A", 1, 0, 1)[0].Data
	for _, tc := range synth.Tunnels {
		f.Add(tc.Wrap(syn))
		f.Add(synth.VLAN(7, tc.Wrap(syn)))
	}
	f.Add(synth.VXLAN(0, synth.VLAN(0, syn)))
	f.Add(synth.Ether(0x8847, synth.MPLS([]uint32{16}, synth.VXLAN(10, syn)[14:]))) // TestTenantsPastLabels'
	f.Add(pptp(syn))
	f.Fuzz(func(t *testing.T, frame []byte) {
		var d headerDecoder
		if _, _, ok := d.decode(linkTypeEthernet, frame, len(frame), time.Time{}, &Stats{}); !ok {
			return
		}
		e := string(d.encap(nil))
		if strings.Count(e, "vlan:") >= maxLabels {
			return
		}
		words := wsparse.EncapTenant(e)
		// (A mix of two or more ids may come out 0: 1 in 2^32.)
		if ten := d.tenant(); (ten == 0) != (words == "") && !(ten == 0 && strings.Contains(words, "/")) {
			t.Fatalf("encap %q, tenant words %q, tenant %#x", e, words, ten)
		}
	})
}
