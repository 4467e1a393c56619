package wsparse

import (
	"slices"
	"strings"
	"testing"
)

// TestEncapTenant: the words that tell a tenant are kept, in order; the
// path's and the mirror's go.
func TestEncapTenant(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"vlan:10", "vlan:10"},
		{"vlan:100/vlan:10", "vlan:100/vlan:10"}, // QinQ: both tags are the tenant
		{"vlan:10/vlan:100", "vlan:10/vlan:100"}, // in their order: another tenant
		{"vlan:0", ""},                           // a priority tag (802.1p): no VLAN, as untagged
		{"vlan:0/vxlan:100", "vxlan:100"},
		{"vlan:100/vlan:0", "vlan:100"}, // QinQ, the inner tag priority only
		{"vlan:0/vlan:10", "vlan:10"},
		{"vxlan:100", "vxlan:100"},
		{"vlan:5/vxlan:100", "vlan:5/vxlan:100"},
		{"vxlan-gpe:42", "vxlan-gpe:42"},
		{"geneve:7", "geneve:7"},
		{"gre:1234", "gre:1234"},
		{"gre", ""},                           // no key: no tenant
		{"gre/erspan:123", ""},                // a mirror session, not a tenant
		{"vlan:10/gre/erspan:123", "vlan:10"}, // the mirror's transport VLAN
		{"mpls:16.100", ""},                   // labels name a path
		{"vlan:10/mpls:16", "vlan:10"},
		{"ipip", ""},
		{"ipip/gre:7", "gre:7"},
		{"pptp:5", ""},
		{"nsh", ""},
		{"pppoe", ""},
		{"vlan", ""}, // no id: not a word of encap's
		{EncapOverflow, EncapOverflow},
	} {
		if got := EncapTenant(c.in); got != c.want {
			t.Errorf("EncapTenant(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzEncapTenant: EncapTenant never panics, keeps only words of its
// input, in order, each a tenant's, and is idempotent.
func FuzzEncapTenant(f *testing.F) {
	for _, s := range []string{"vlan:10/mpls:16.100/vxlan:7", "gre/erspan:1", "//", "vlan:/:", EncapOverflow, "vlan:1/" + EncapOverflow} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := EncapTenant(s)
		if got == "" || got == EncapOverflow && s == EncapOverflow {
			return
		}
		if EncapTenant(got) != got {
			t.Fatalf("EncapTenant(%q) = %q, not idempotent", s, got)
		}
		in := strings.Split(s, "/")
		for _, w := range strings.Split(got, "/") {
			i := slices.Index(in, w)
			kind, _, _ := strings.Cut(w, ":")
			if i < 0 || !strings.Contains(w, ":") || !slices.Contains([]string{"vlan", "vxlan", "vxlan-gpe", "geneve", "gre"}, kind) {
				t.Fatalf("EncapTenant(%q) = %q: word %q not a tenant word of the input", s, got, w)
			}
			in = in[i+1:]
		}
	})
}
