package reassembly

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestPriorityTagNoTenant: a frame whose 802.1Q tag carries a priority
// only (VLAN id 0, IEEE 802.1p: the null VID, the frame the port's own
// VLAN's) is in the tenant of the same frame untagged, whatever its
// priority bits, as wsparse.EncapTenant drops "vlan:0"; a VLAN's
// priority bits are no tenant either; the ids of QinQ's two tags make a
// tenant in their order. Before, a priority-tagged copy and an untagged
// copy of one host's packets were two tenants.
func TestPriorityTagNoTenant(t *testing.T) {
	t.Parallel()
	syn := synth.TenantConv("A", 1, 0, 1)[0].Data
	tenant := func(f []byte) uint32 {
		t.Helper()
		var d headerDecoder
		if _, _, ok := d.decode(linkTypeEthernet, f, len(f), time.Time{}, &Stats{}); !ok {
			t.Fatalf("not decoded: % x", f[:18])
		}
		return d.tenant()
	}
	qinq := func(outer, inner uint16) []byte {
		f := synth.VLAN(inner, syn)
		f = synth.VLAN(outer, f)
		f[12], f[13] = 0x88, 0xa8
		return f
	}
	for _, c := range []struct {
		name string
		a, b []byte
		same bool
	}{
		{"priority 5, untagged", synth.VLAN(5<<13, syn), syn, true},
		{"priority 0, untagged", synth.VLAN(0, syn), syn, true},
		{"vlan 10 priority 5, vlan 10", synth.VLAN(5<<13|10, syn), synth.VLAN(10, syn), true},
		{"qinq 100 with priority tag inside, vlan 100", qinq(100, 3<<13), synth.VLAN(100, syn), true},
		{"vlan 10, untagged", synth.VLAN(10, syn), syn, false},
		{"qinq 100/10, 10/100", qinq(100, 10), qinq(10, 100), false},
	} {
		if ta, tb := tenant(c.a), tenant(c.b); (ta == tb) != c.same {
			t.Errorf("%s: tenants %#x and %#x, want same %v", c.name, ta, tb, c.same)
		}
	}
}
