package health

import (
	"net/netip"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// inTenant starts a conversation whose packets came in encap.
func inTenant(t *Tracker, id int, client, encap string, startMS int) *conv {
	c := wsparse.NewConn(id, netip.MustParseAddrPort(client), server80, wsparse.Config{}, nil)
	c.SetEncapID(wsparse.EncapID(encap))
	hs := &wsparse.Handshake{RequestTS: at(startMS), TS: at(startMS + 1), Method: "GET", URI: "/feed", Host: "example.test", Status: 101}
	t.Handshake(c, hs)
	return &conv{t: t, c: c, hs: hs}
}

// refusedIn is a connect refused at ms, in encap.
func refusedIn(t *Tracker, id int, client, encap string, ms int) {
	c := wsparse.NewConn(id, netip.MustParseAddrPort(client), server80, wsparse.Config{}, nil)
	c.SetEncapID(wsparse.EncapID(encap))
	t.End(c, &wsparse.Summary{First: at(ms), Last: at(ms + 1), Connect: wsparse.ConnectRefused, End: wsparse.EndNotWebSocket})
}

// TestReconnectGroupsByTenant: two tenants' clients on the same private
// address, Host and URL are a group each, with the refused connects of
// their own tenant; a connection of the first tenant seen on another
// path (other MPLS labels) or through a mirror session's ERSPAN stays in
// its tenant's group; a connection whose encapsulation was not named
// (EncapOverflow) is a group of its own. Before, all of them were one
// group, its attempts interleaved.
func TestReconnectGroupsByTenant(t *testing.T) {
	tr := New(nil, Options{})
	const ip = "10.9.0.1"
	// Tenant vlan:10 healthy: good connections every 1 s.
	inTenant(tr, 1, ip+":4001", "vlan:10", 0).end(500, wsparse.EndClean, byClient(400), 0, 0)
	inTenant(tr, 3, ip+":4003", "vlan:10/mpls:16", 1000).end(1500, wsparse.EndClean, byClient(1400), 0, 0)
	inTenant(tr, 5, ip+":4005", "vlan:10/gre/erspan:7", 2000).end(2500, wsparse.EndClean, byClient(2400), 0, 0)
	// Tenant vlan:20: reset, refused twice, back.
	inTenant(tr, 2, ip+":4002", "vlan:20", 100).end(600, wsparse.EndRSTWithoutClose, noClose, 0, 0)
	refusedIn(tr, 4, ip+":4004", "vlan:20", 900)
	refusedIn(tr, 6, ip+":4006", "vlan:20", 1200)
	inTenant(tr, 7, ip+":4007", "vlan:20", 1500).end(2000, wsparse.EndClean, byClient(1900), 0, 0)
	// Two connections whose encapsulation was not named.
	inTenant(tr, 8, ip+":4008", wsparse.EncapOverflow, 3000).end(3500, wsparse.EndRSTWithoutClose, noClose, 0, 0)
	inTenant(tr, 9, ip+":4009", wsparse.EncapOverflow, 3600).end(4000, wsparse.EndClean, byClient(3900), 0, 0)
	// A plain one: a group without tenant.
	inTenant(tr, 10, ip+":4010", "", 4100).end(4500, wsparse.EndClean, byClient(4400), 0, 0)
	r := tr.Report()
	type want struct {
		encap    string
		timeline string
		refused  int
	}
	wants := []want{
		{"vlan:10", " 1[]:ok 3[]:ok+600ms 5[]:ok+600ms", 0},
		{"vlan:20", " 2[]:error 4[]:conn_refused+300ms 6[]:conn_refused+299ms 7[]:ok+299ms", 2},
		{wsparse.EncapOverflow, " 8[]:error", 0},
		{wsparse.EncapOverflow, " 9[]:ok", 0},
		{"", " 10[]:ok", 0},
	}
	if len(r.Groups) != len(wants) {
		for _, g := range r.Groups {
			t.Logf("group %q%s", g.Encap(), timeline(g))
		}
		t.Fatalf("%d groups, want %d", len(r.Groups), len(wants))
	}
	for i, w := range wants {
		g := r.Groups[i]
		if g.Encap() != w.encap || timeline(g) != w.timeline || g.Refused != w.refused {
			t.Errorf("group %d: encap %q, timeline%s, refused %d; want %q,%s, %d", i+1, g.Encap(), timeline(g), g.Refused, w.encap, w.timeline, w.refused)
		}
	}
	if g := r.Groups[1]; g.Outage != 900*1e6 || g.Backoff != "fixed" {
		t.Errorf("vlan:20's outage %v, backoff %q; want 900ms, fixed (its own attempts only)", g.Outage, g.Backoff)
	}
}

// TestReconnectGroupsPriorityTag: a client whose connections came some
// priority-tagged (802.1p: VLAN id 0, no VLAN) and some untagged, as
// through two mirror ports, is one group, of no tenant; one in VLAN 10
// with a priority tag inside QinQ's is VLAN 10's. Before, "vlan:0" was
// a tenant: two groups.
func TestReconnectGroupsPriorityTag(t *testing.T) {
	tr := New(nil, Options{})
	const ip = "10.9.0.1"
	inTenant(tr, 1, ip+":4001", "vlan:0", 0).end(500, wsparse.EndRSTWithoutClose, noClose, 0, 0)
	inTenant(tr, 2, ip+":4002", "", 1000).end(1500, wsparse.EndClean, byClient(1400), 0, 0)
	inTenant(tr, 3, ip+":4003", "vlan:10/vlan:0", 2000).end(2500, wsparse.EndClean, byClient(2400), 0, 0)
	inTenant(tr, 4, ip+":4004", "vlan:10", 3000).end(3500, wsparse.EndClean, byClient(3400), 0, 0)
	r := tr.Report()
	var got []string
	for _, g := range r.Groups {
		got = append(got, g.Encap()+timeline(g))
	}
	want := []string{" 1[]:error 2[]:ok+500ms", "vlan:10 3[]:ok 4[]:ok+600ms"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("groups %q, want %q", got, want)
	}
}
