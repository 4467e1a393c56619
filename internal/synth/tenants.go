package synth

import (
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// VLAN is an Ethernet frame with an 802.1Q tag of VLAN id inserted.
func VLAN(id uint16, frame []byte) []byte {
	return cat(frame[:12], []byte{0x81, 0}, be16(id), frame[12:])
}

// VXLAN wraps an Ethernet frame in VXLAN with network identifier vni,
// over IPv4 and UDP to port 4789.
func VXLAN(vni uint32, frame []byte) []byte {
	h := []byte{8, 0, 0, 0, byte(vni >> 16), byte(vni >> 8), byte(vni), 0}
	return Ether(0x0800, IPv4(17, UDP(51234, 4789, cat(h, frame))))
}

// GREKeyed wraps the IP packet of an Ethernet frame in GRE with key key,
// over IPv4.
func GREKeyed(key uint32, frame []byte) []byte {
	g := GRE(GREKey, etherType(frame), inner(frame))
	binary.BigEndian.PutUint32(g[4:], key)
	return Ether(0x0800, IPv4(47, g))
}

// Tenant wraps a frame as tenant n (1 or 2) of an overlay: VLAN 10 or 20,
// VNI 100 or 200, GRE key 1 or 2.
type Tenant struct {
	Name string
	Wrap func(n int, frame []byte) []byte
}

// Tenants are the overlays whose tenants wsdump tells apart.
var Tenants = []Tenant{
	{"vlan", func(n int, f []byte) []byte { return VLAN(uint16(10*n), f) }},
	{"vxlan", func(n int, f []byte) []byte { return VXLAN(uint32(100*n), f) }},
	{"gre key", func(n int, f []byte) []byte { return GREKeyed(uint32(n), f) }},
}

// TenantConv is a WebSocket conversation from 10.0.0.1:40000 to
// 10.0.0.2:80 (the same 4-tuple for every name) with initial sequence
// numbers isn and isn+0x1234567, starting at at after Start: n text
// messages each way ("NAME cI", "NAME sI"), a Close each way, FIN, FIN.
func TenantConv(name string, isn uint32, at time.Duration, n int) []Packet {
	c := New("10.0.0.1:40000", "10.0.0.2:80").ISN(isn, isn+0x1234567).At(at).Open().Upgrade()
	for i := range n {
		c.Frame(true, wsparse.OpText, fmt.Appendf(nil, "%s c%d", name, i))
		c.Frame(false, wsparse.OpText, fmt.Appendf(nil, "%s s%d", name, i))
	}
	c.Frame(true, wsparse.OpClose, []byte{3, 0xe8})
	c.Frame(false, wsparse.OpClose, []byte{3, 0xe8})
	return c.Fin(false).Fin(true).Packets
}

// Wrapped returns pkts, each shifted by d and wrapped by wrap.
func Wrapped(pkts []Packet, d time.Duration, wrap func([]byte) []byte) []Packet {
	out := make([]Packet, len(pkts))
	for i, p := range pkts {
		out[i] = Packet{TS: p.TS.Add(d), Data: wrap(p.Data)}
	}
	return out
}

// ByTime merges packet lists by time (stable: the first list's packet
// first at equal times).
func ByTime(lists ...[]Packet) []Packet {
	var all []Packet
	for _, l := range lists {
		all = append(all, l...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].TS.Before(all[j].TS) })
	return all
}
