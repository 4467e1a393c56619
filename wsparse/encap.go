package wsparse

import (
	"strings"
	"sync"
)

// Encapsulations: what carried a connection's packets (VLAN ids, MPLS
// labels, tunnels and their network identifiers), as reassembly describes
// it (reassembly/encap.go: "vlan:10/vxlan:100"). A Conn holds it as a
// number in its padding (4 bytes, not a string's 16: a Conn and its
// decoder stay one allocation of 416 bytes); the strings are kept once,
// process-wide, as there are few (a capture's tenants), up to
// maxEncaps, past which a connection's encapsulation shows as
// EncapOverflow.
var encaps struct {
	sync.RWMutex
	names []string          // by number less 1
	index map[string]uint32 // number by name
}

// maxEncaps bounds the encapsulations kept: a hostile capture's 2^24
// VXLAN network identifiers would otherwise hold hundreds of MB.
const maxEncaps = 1 << 16

// EncapOverflow is the encapsulation shown past maxEncaps distinct ones.
const EncapOverflow = "…"

// EncapID returns the number of encapsulation name ("" is 0), for
// SetEncapID.
func EncapID(name string) uint32 {
	if name == "" {
		return 0
	}
	encaps.RLock()
	id, ok := encaps.index[name]
	encaps.RUnlock()
	if ok {
		return id
	}
	encaps.Lock()
	defer encaps.Unlock()
	if id, ok := encaps.index[name]; ok {
		return id
	}
	if encaps.index == nil {
		encaps.index = map[string]uint32{}
	}
	if len(encaps.names) >= maxEncaps {
		name = EncapOverflow
		if id, ok := encaps.index[name]; ok {
			return id
		}
	}
	encaps.names = append(encaps.names, name)
	id = uint32(len(encaps.names))
	encaps.index[name] = id
	return id
}

// EncapFull reports whether id is EncapOverflow's: an encapsulation past
// maxEncaps distinct ones, not named.
func EncapFull(id uint32) bool { return id != 0 && EncapName(id) == EncapOverflow }

// SetEncapID sets the connection's encapsulation by its number (EncapID).
func (c *Conn) SetEncapID(id uint32) { c.encap = id }

// EncapID returns the number of the connection's encapsulation (0: none).
func (c *Conn) EncapID() uint32 { return c.encap }

// Encap returns the connection's encapsulation ("" if none).
func (c *Conn) Encap() string { return EncapName(c.encap) }

// EncapName returns the encapsulation numbered id by EncapID ("" for 0).
func EncapName(id uint32) string {
	if id == 0 {
		return ""
	}
	encaps.RLock()
	defer encaps.RUnlock()
	return encaps.names[id-1]
}

// EncapTenant returns the words of encapsulation name that tell a tenant
// (VLAN ids but 0, a priority tag's; VXLAN, VXLAN-GPE and GENEVE network
// identifiers, GRE keys: those reassembly tells two connections on one
// 4-tuple apart by), in
// order, joined by "/": "vlan:10/vxlan:100" of "vlan:10/mpls:16/vxlan:100".
// The others name a path or a mirror session, not a tenant (MPLS labels,
// IP in IP, GRE without key, ERSPAN's session, PPTP's call, NSH, PPPoE),
// and are left out. EncapOverflow stays EncapOverflow (its words unknown).
func EncapTenant(name string) string {
	if name == "" || name == EncapOverflow {
		return name
	}
	var b []byte
	for rest := name; rest != ""; {
		var w string
		w, rest, _ = strings.Cut(rest, "/")
		kind, _, ok := strings.Cut(w, ":")
		if !ok {
			continue
		}
		if w == "vlan:0" {
			// An 802.1p priority tag: VLAN id 0 is no VLAN (IEEE
			// 802.1Q, the null VID), the frame the port's own, as
			// an untagged one.
			continue
		}
		switch kind {
		case "vlan", "vxlan", "vxlan-gpe", "geneve", "gre":
			if len(b) > 0 {
				b = append(b, '/')
			}
			b = append(b, w...)
		}
	}
	if len(b) == len(name) {
		return name // every word a tenant's: no copy
	}
	return string(b)
}
