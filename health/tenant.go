package health

import (
	"net/netip"

	"github.com/wsdump/wsdump/wsparse"
)

// tenants numbers the tenants of a report's reconnect groups (0: none,
// a plain connection's), so that the keys of its maps grow by 4 bytes,
// not a string's 16, and a plain capture makes no map at all.
//
// A connection's tenant is the words of its encapsulation that tell a
// tenant (wsparse.EncapTenant: VLAN ids, VXLAN, VXLAN-GPE and GENEVE
// network identifiers, GRE keys, those reassembly tells two connections
// on one 4-tuple apart by), so that two tenants' clients on the same
// private address are two groups while a connection seen on another path
// (other MPLS labels, a mirror session's ERSPAN) stays in its tenant's.
// A connection whose encapsulation was not named (wsparse.EncapOverflow)
// gets a number of its own: its tenant is unknown and must not be merged
// with another's.
type tenants struct {
	num   map[string]uint32
	names []string // by number less 1
}

// of returns the number of the tenant of encapsulation encap.
func (ts *tenants) of(encap string) uint32 {
	if encap == "" {
		return 0
	}
	if encap == wsparse.EncapOverflow {
		ts.names = append(ts.names, wsparse.EncapOverflow)
		return uint32(len(ts.names))
	}
	k := wsparse.EncapTenant(encap)
	if k == "" {
		return 0
	}
	if n, ok := ts.num[k]; ok {
		return n
	}
	if ts.num == nil {
		ts.num = map[string]uint32{}
	}
	ts.names = append(ts.names, k)
	n := uint32(len(ts.names))
	ts.num[k] = n
	return n
}

// name returns tenant n's encapsulation words ("" for 0).
func (ts *tenants) name(n uint32) string {
	if n == 0 {
		return ""
	}
	return ts.names[n-1]
}

// SetEncap sets the group's tenant as Encap shows it (for a Report built
// by hand, as tests do).
func (g *Group) SetEncap(name string) { g.encap = wsparse.EncapID(name) }

// Encap is the tenant the group's connections came in: the words of
// their encapsulation that tell a tenant (wsparse.EncapTenant: VLAN ids,
// VXLAN, VXLAN-GPE and GENEVE network identifiers, GRE keys), "" for
// plain connections, and wsparse.EncapOverflow for a connection whose
// encapsulation was not named (a group of its own: its tenant is
// unknown).
func (g *Group) Encap() string { return wsparse.EncapName(g.encap) }

// overKey is what the connects past maxConnectsKept are counted by.
type overKey struct {
	client netip.Addr
	server netip.AddrPort
	encap  uint32 // wsparse.EncapID
}

// tenantGroupKey is groupKey for the connections of a tenant (tenants'
// number), in a map of their own: a plain capture's keys stay as small.
type tenantGroupKey struct {
	groupKey
	tenant uint32
}

// Regroup makes r's reconnect groups again over its connections as they
// are now, after Keep (conns -Y): a selection's groups, as those of a
// connection filter (--conn, --host, --path), are of the connections
// selected and of the attempts that never reached WebSocket the tracker
// was given, which the caller selected before (a refused, unanswered or
// closed connect, a request before an upgrade: conns gives the tracker
// those its filter selects, as lint's selects them). Before, -Y kept the
// rows and left the groups of the whole capture: -Y 'vni == 20' listed
// the other tenant's group too, of connections not in the table.
func (t *Tracker) Regroup(r *Report) {
	r.Groups, r.ConnectsUncounted = t.groups(r.Len(), r.Conn)
}
