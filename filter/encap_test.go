package filter

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestEncapFields: encap, vlan and vni from a connection's encapsulation
// (the first VLAN id, the first network identifier), in the environment
// of a frame of a connection that has one and of one that has none, as
// expressions read them.
func TestEncapFields(t *testing.T) {
	for _, tc := range []struct {
		encap string
		want  string // encap, vlan, vni as the environment has them
	}{
		{"", `"" <nil> <nil>`},
		{"vlan:10", `"vlan:10" 10 <nil>`},
		{"vlan:100/vlan:10/vxlan:5", `"vlan:100/vlan:10/vxlan:5" 100 5`},
		{"ipip/gre/vxlan:42/geneve:7", `"ipip/gre/vxlan:42/geneve:7" <nil> 42`},
		{"vxlan-gpe:0", `"vxlan-gpe:0" <nil> 0`},
		{"gre:1/mpls:16.100", `"gre:1/mpls:16.100" <nil> <nil>`},
	} {
		c := wsparse.NewView(1, [2]netip.AddrPort{})
		c.SetEncapID(wsparse.EncapID(tc.encap))
		x, err := CompileExpr(`vlan == 10 || vni in [5, 42] || encap == ""`)
		if err != nil {
			t.Fatal(err)
		}
		f := New(nil, Spec{Expr: x})
		env := f.FrameEnv(c, &wsparse.Frame{}, nil)
		if got := fmt.Sprintf("%q %v %v", env["encap"], env["vlan"], env["vni"]); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.encap, got, tc.want)
		}
		wantMatch := tc.encap == "" || tc.encap == "vlan:10" || tc.encap == "vlan:100/vlan:10/vxlan:5" || tc.encap == "ipip/gre/vxlan:42/geneve:7"
		if m := x.Match(env); m != wantMatch {
			t.Errorf("%q: match %v", tc.encap, m)
		}
	}
}
