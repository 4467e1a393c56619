package reassembly

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// pptp wraps an Ethernet frame of synth's 10.0.0.1 <-> 10.0.0.2 in
// PPTP's enhanced GRE (RFC 2637 §4.1: version 1, key and sequence
// present), as a PPTP server and client send it: the key field is the
// payload's length (the PPP frame's) and the peer's call id, so it
// differs by direction (call ids 0x1111 for the client's side, 0x2222
// for the server's) and by packet.
func pptp(f []byte) []byte {
	ip := f[14:]
	ip = ip[:binary.BigEndian.Uint16(ip[2:4])]
	ppp := append([]byte{0xff, 0x03, 0x00, 0x21}, ip...)
	call := uint16(0x2222) // the server's: the client sends to it
	if ip[12+3] == 2 {     // from 10.0.0.2, the server
		call = 0x1111
	}
	h := make([]byte, 12)
	binary.BigEndian.PutUint16(h, 0x2000|0x1000|1) // key, sequence, version 1
	binary.BigEndian.PutUint16(h[2:], 0x880b)
	binary.BigEndian.PutUint16(h[4:], uint16(len(ppp)))
	binary.BigEndian.PutUint16(h[6:], call)
	binary.BigEndian.PutUint32(h[8:], 7)
	return synth.Ether(0x0800, synth.IPv4(47, append(h, ppp...)))
}

// TestPPTPNoTenant: PPTP's GRE key is no tenant (its upper half is the
// packet's payload length, its lower the peer's call id, both differing
// between packets of one connection), as wsparse.EncapTenant has it. A
// connection A captured from its middle, in a PPTP call, whose client
// goes away (no FIN), and R, its reconnect from the same port: R ends A
// (port reuse) and is a connection with every message of its own.
// Before, each packet's length and direction made another tenant (two
// packets, two tenants): R's SYN was not A's first packet's tenant, so
// it did not end A as port reuse, and 3 connections were counted, R
// numbered 3 after a connection of no record.
func TestPPTPNoTenant(t *testing.T) {
	t.Parallel()
	syn := pptp(synth.TenantConv("A", 1, 0, 1)[0].Data)
	ack := pptp(synth.TenantConv("A", 1, 0, 1)[4].Data)
	var d headerDecoder
	tenants := map[uint32]bool{}
	for _, f := range [][]byte{syn, ack} { // two lengths, two directions
		if _, _, ok := d.decode(linkTypeEthernet, f, len(f), time.Time{}, &Stats{}); !ok {
			t.Fatal("PPTP packet not decoded")
		}
		tenants[d.tenant()] = true
	}
	if !tenants[0] || len(tenants) != 1 {
		t.Errorf("PPTP packets' tenants %v, want 0 alone", tenants)
	}

	a := synth.TenantConv("A", 0x10000000, 0, 5)
	a = a[3 : len(a)-4] // from the upgrade request; no Close, no FIN
	r := synth.TenantConv("R", 0x70000000, 100*time.Millisecond, 5)
	pkts := synth.ByTime(synth.Wrapped(a, 0, pptp), synth.Wrapped(r, 0, pptp))
	for _, jobs := range []int{1, 2} {
		l, st := run(pkts, Options{}, jobs)
		if st.Connections != 2 || st.Lanes != 0 {
			t.Errorf("-j %d: %d connections, %d lanes; want 2 and 0", jobs, st.Connections, st.Lanes)
		}
		for i := range 5 {
			for _, dir := range []string{"c2s", "s2c"} {
				m := fmt.Sprintf("conn 2 10.0.0.1:40000->10.0.0.2:80 message %s \"R %c%d\"", dir, dir[0], i)
				if n := l.count(m); n != 1 {
					t.Errorf("-j %d: %s seen %d times", jobs, m, n)
				}
			}
		}
		if n := l.count("conn 2 10.0.0.1:40000->10.0.0.2:80 end clean"); n != 1 {
			t.Errorf("-j %d: R ended clean %d times, want 1", jobs, n)
		}
		if t.Failed() {
			t.Logf("records:\n%s", strings.Join(l.lines, "\n"))
			return
		}
	}
}
