package health

import (
	"hash/maphash"
	"net/netip"

	"github.com/wsdump/wsdump/wsparse"
)

// RetryGroupsOnly makes the reports' reconnect groups only those that may
// hold two attempts or more, for a caller that judges retries alone
// (lint: a storm, a group not recovered or never connected needs two): a
// connection that is the only one of its client IP, Host, base URL and
// tenant, with no connect or request without a URL from its client to
// its server that might join it, makes no group, and nothing is kept of
// it for the grouping. The groups made are the same as without it (the
// same attempts, verdicts and order); only the lone ones are missing,
// and a few of them may still be there (a hash of the keys counts them).
// On 100 000 open connections from as many clients, the groups of one
// attempt each were ~50 MB at the end of the input.
func (t *Tracker) RetryGroupsOnly() { t.retryGroupsOnly = true }

// loneConns reports, of the n connections (conn), those in no group of
// two attempts or more (as far as a hash of their keys tells: a
// collision keeps one that is lone), and how many are not.
func (t *Tracker) loneConns(n int, conn func(i int) *Conn) ([]bool, int) {
	seed := maphash.MakeSeed()
	var h maphash.Hash
	h.SetSeed(seed)
	addr := func(a netip.Addr) {
		b, _ := a.MarshalBinary()
		h.Write(b)
		h.WriteByte(0)
	}
	// A tenant is its encapsulation's tenant key (tenants.of); one past
	// the bound on encapsulations (EncapOverflow) is kept.
	key := func(ip netip.Addr, host, path, encap string) uint64 { // groupKey and tenant
		h.Reset()
		encap = wsparse.EncapTenant(encap)
		addr(ip)
		h.WriteString(host)
		h.WriteByte(0)
		h.WriteString(path)
		h.WriteByte(0)
		h.WriteString(encap)
		return h.Sum64()
	}
	server := func(ip netip.Addr, s netip.AddrPort, encap string) uint64 { // connectKey and tenant
		h.Reset()
		encap = wsparse.EncapTenant(encap)
		h.WriteByte(1)
		addr(ip)
		addr(s.Addr())
		h.WriteByte(byte(s.Port() >> 8))
		h.WriteByte(byte(s.Port()))
		h.WriteString(encap)
		return h.Sum64()
	}
	keys := make([]uint64, n)
	servers := make([]uint64, n)
	count := make(map[uint64]int32)
	urlless := make(map[uint64]bool) // client and server of a connect or connection with no URL
	for i := range n {
		c := conn(i)
		servers[i] = server(c.Client.Addr(), c.Server, c.Encap)
		if c.Host == "" && c.Path == "" || c.Encap == wsparse.EncapOverflow {
			urlless[servers[i]] = true
			keys[i] = servers[i]
			count[keys[i]] += 2 // it is grouped as without RetryGroupsOnly
			continue
		}
		keys[i] = key(c.Client.Addr(), c.Host, baseOf(c.Path), c.Encap)
		count[keys[i]]++
	}
	for _, x := range t.connects.kept {
		encap := wsparse.EncapName(x.encap)
		if x.req == nil {
			urlless[server(x.client, x.server, encap)] = true
		} else {
			count[key(x.client, x.req.host, x.req.base, encap)]++
		}
	}
	for k := range t.connects.over {
		urlless[server(k.client, k.server, wsparse.EncapName(k.encap))] = true
	}
	lone := make([]bool, n)
	kept := 0
	for i := range n {
		lone[i] = count[keys[i]] < 2 && !urlless[servers[i]]
		if !lone[i] {
			kept++
		}
	}
	return lone, kept
}
