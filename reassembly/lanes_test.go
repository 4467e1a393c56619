package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestTenantsApart: two WebSocket conversations on the same 4-tuple at
// once, in two tenants of an overlay (VLAN ids, VXLAN VNIs, GRE keys),
// with their own sequence numbers: both at once from their SYNs, and the
// second starting in the middle of the first. Each is a connection with
// every message of its own, in order, and nothing lost. A mirror's two
// copies of one conversation, in two tenants, stay one connection. Before
// lanes.go, the second SYN ended the first (port reuse), and the rest of
// both went to one connection: the first's messages after it lost, the
// second's client messages shown with the first's server ones, and 1.6
// GB said lost.
func TestTenantsApart(t *testing.T) {
	t.Parallel()
	a := synth.TenantConv("A", 0x10000000, 0, 10)
	for _, ten := range synth.Tenants {
		in := func(n int) func([]byte) []byte { return func(f []byte) []byte { return ten.Wrap(n, f) } }
		for _, tc := range []struct {
			name  string
			pkts  []synth.Packet
			other string // the second conversation's name, "" for a mirror
		}{
			{"at once", synth.ByTime(synth.Wrapped(a, 0, in(1)), synth.Wrapped(synth.TenantConv("B", 0x70000000, 0, 10), 500*time.Microsecond, in(2))), "B"},
			{"midway", synth.ByTime(synth.Wrapped(a, 0, in(1)), synth.Wrapped(synth.TenantConv("C", 0x70000000, 0, 10), 10500*time.Microsecond, in(2))), "C"},
			{"mirrored", synth.ByTime(synth.Wrapped(a, 0, in(1)), synth.Wrapped(a, 10*time.Microsecond, in(2))), ""},
		} {
			for _, jobs := range []int{1, 2} {
				l, st := run(tc.pkts, Options{}, jobs)
				want, lanes := 2, 1
				if tc.other == "" {
					want, lanes = 1, 0
				}
				if st.Connections != want || st.Lanes != lanes {
					t.Errorf("%s, %s, -j %d: %d connections, %d lanes, want %d and %d", ten.Name, tc.name, jobs, st.Connections, st.Lanes, want, lanes)
				}
				for k, name := range []string{"A", tc.other} {
					if name == "" {
						continue
					}
					prefix := fmt.Sprintf("conn %d 10.0.0.1:40000->10.0.0.2:80 ", k+1)
					var got []string
					for _, s := range l.lines {
						if strings.HasPrefix(s, prefix+"message") {
							got = append(got, strings.TrimPrefix(s, prefix+"message "))
						}
					}
					var exp []string
					for i := range 10 {
						exp = append(exp, fmt.Sprintf("c2s %q []", fmt.Sprintf("%s c%d", name, i)), fmt.Sprintf("s2c %q []", fmt.Sprintf("%s s%d", name, i)))
					}
					if g, w := strings.Join(got, "\n"), strings.Join(exp, "\n"); g != w {
						t.Errorf("%s, %s, -j %d: conn %d's messages:\n%s\nwant:\n%s", ten.Name, tc.name, jobs, k+1, g, w)
					}
					if n := l.count(prefix + "end clean frames 11/11 []"); n != 1 {
						t.Errorf("%s, %s, -j %d: conn %d: %d clean ends", ten.Name, tc.name, jobs, k+1, n)
					}
				}
				if t.Failed() {
					t.Logf("records:\n%s", strings.Join(l.lines, "\n"))
					return
				}
			}
		}
	}
}

// TestTenantsBounded: 256 connections in VLANs 1 to 256 on one 4-tuple
// at once (a SYN each, with its own sequence number): the first 255
// after the first take lanes, the last is counted and taken for port
// reuse (it ends the first). A 4-tuple holds 256 lanes at most.
func TestTenantsBounded(t *testing.T) {
	t.Parallel()
	var pkts []synth.Packet
	for v := range 257 {
		c := synth.New("10.0.0.1:40000", "10.0.0.2:80").ISN(uint32(v+1)<<20, 5000).At(time.Duration(v) * time.Millisecond).Syn()
		pkts = append(pkts, synth.Wrapped(c.Packets, 0, func(f []byte) []byte { return synth.VLAN(uint16(v+1), f) })...)
	}
	for _, jobs := range []int{1, 2} {
		_, st := run(pkts, Options{}, jobs)
		if st.Lanes != 255 || st.LanesFull != 1 || st.Connections != 257 {
			t.Errorf("-j %d: %d lanes, %d refused, %d connections; want 255, 1, 257", jobs, st.Lanes, st.LanesFull, st.Connections)
		}
	}
}

// TestTenantsMirrorReconnect: a mirror sends each packet in VLAN 10 and
// VLAN 20, the first connection's copies in 10 first, the second's in 20
// first; the client reconnects from the same port without a FIN or RST
// captured. Two connections, each message once: the reconnect's SYN in
// VLAN 20 took a lane (another tenant, the first open), and its copy in
// VLAN 10 is found to be the same SYN (copyOf), so VLAN 10 follows it
// there. Without copyOf the reconnect was shown twice.
func TestTenantsMirrorReconnect(t *testing.T) {
	t.Parallel()
	wantMirrorReconnect(t, mirrorReconnect(0), "conn %d 10.0.0.1:40000->10.0.0.2:80 message %s \"%s\"")
}

// wantMirrorReconnect checks mirrorReconnect's packets, -j 1 and -j 2:
// two connections, A's and R's, each of their messages once in its own,
// none of R's in the first; line is the record of a message, from the
// connection's number, its direction and its text.
func wantMirrorReconnect(t *testing.T, pkts []synth.Packet, line string) {
	t.Helper()
	for _, jobs := range []int{1, 2} {
		l, st := run(pkts, Options{}, jobs)
		if st.Connections != 2 || st.Lanes != 0 {
			t.Errorf("-j %d: %d connections, %d lanes; want 2 and 0", jobs, st.Connections, st.Lanes)
		}
		for k, name := range []string{"A", "R"} {
			for i := range 5 {
				for _, dir := range []string{"c2s", "s2c"} {
					m := fmt.Sprintf(line, k+1, dir, fmt.Sprintf("%s %c%d", name, dir[0], i))
					if n := l.count(m); n != 1 {
						t.Errorf("-j %d: %s seen %d times", jobs, m, n)
					}
				}
			}
		}
		for _, s := range l.lines {
			if strings.HasPrefix(s, "conn 1 ") && strings.Contains(s, "\"R ") {
				t.Errorf("-j %d: the reconnect in the first connection: %s", jobs, s)
			}
		}
		// The copies of R in the other VLAN follow R: in the first
		// connection they would be another sequence space, skipped.
		if n := l.count("seq_space_mixed"); n != 0 {
			t.Errorf("-j %d: seq_space_mixed on %d lines", jobs, n)
		}
		if t.Failed() {
			t.Logf("records:\n%s", strings.Join(l.lines, "\n"))
			return
		}
	}
}

// mirrorReconnect is a mirror's copies in VLANs 10 and 20 of connection
// A, whose client goes away (no Close, no FIN), and of R, its reconnect
// from the same port; R's copies in VLAN 10 lack its first skip packets.
func mirrorReconnect(skip int) []synth.Packet {
	a := synth.TenantConv("A", 0x10000000, 0, 5)
	a = a[:len(a)-4]
	r := synth.TenantConv("R", 0x70000000, 100*time.Millisecond, 5)
	in := func(id uint16) func([]byte) []byte { return func(f []byte) []byte { return synth.VLAN(id, f) } }
	return synth.ByTime(synth.Wrapped(a, 0, in(10)), synth.Wrapped(a, 10*time.Microsecond, in(20)),
		synth.Wrapped(r[skip:], 10*time.Microsecond, in(10)), synth.Wrapped(r, 0, in(20)))
}

// TestTenantsMirrorReconnectOneSYN: as TestTenantsMirrorReconnect, the
// reconnect's SYN captured in VLAN 20 only (the mirror dropped its copy
// in 10). The SYN took a lane; the SYN-ACK's copy in VLAN 10 answers it
// (answerOf), so VLAN 10 follows it there. Without answerOf the
// reconnect's copies in VLAN 10 went on in the first connection, every
// frame of it shown twice.
func TestTenantsMirrorReconnectOneSYN(t *testing.T) {
	t.Parallel()
	wantMirrorReconnect(t, mirrorReconnect(1), "conn %d 10.0.0.1:40000->10.0.0.2:80 frame %s text \"%s\" []")
}

// TestTenantsMirrorReconnectNoHandshake: as TestTenantsMirrorReconnect,
// the reconnect's SYN and SYN-ACK captured in VLAN 20 only. Its later
// copies in VLAN 10 lie outside the first connection's sequence space and
// in the reconnect's (strayOf), so VLAN 10 follows it there, and the
// lane is no other tenant's connection. Without strayOf they went on in
// the first connection as another sequence space (seq_space_mixed), and
// 1 lane was counted.
func TestTenantsMirrorReconnectNoHandshake(t *testing.T) {
	t.Parallel()
	wantMirrorReconnect(t, mirrorReconnect(2), "conn %d 10.0.0.1:40000->10.0.0.2:80 frame %s text \"%s\" []")
}

// TestTenantsFragments: as TestTenantsApart at once in VLANs 10 and 20,
// every segment of the second that carries bytes cut into IP fragments
// (its SYN and ACKs whole). A Parallel worker gets the datagram the
// fragments made without their VLAN tag: the tenant is read from the
// last fragment's frame, as an Assembler reads it. Without that, -j 2
// sent the second's bytes to the first's lane and lost all its messages.
func TestTenantsFragments(t *testing.T) {
	t.Parallel()
	a := synth.Wrapped(synth.TenantConv("A", 0x10000000, 0, 10), 0, func(f []byte) []byte { return synth.VLAN(10, f) })
	var b []synth.Packet
	for i, p := range synth.TenantConv("B", 0x70000000, 500*time.Microsecond, 10) {
		ip := p.Data[14:]
		if n := int(ip[2])<<8 | int(ip[3]); n <= 40 {
			b = append(b, synth.Packet{TS: p.TS, Data: synth.VLAN(20, p.Data)})
			continue
		}
		for _, f := range synth.FragmentIP(ip, 16, uint32(100+i)) {
			b = append(b, synth.Packet{TS: p.TS, Data: synth.VLAN(20, synth.Ether(0x0800, f))})
		}
	}
	pkts := synth.ByTime(a, b)
	for _, jobs := range []int{1, 2} {
		l, st := run(pkts, Options{}, jobs)
		if st.Connections != 2 || st.Lanes != 1 || st.Defragmented == 0 {
			t.Errorf("-j %d: %d connections, %d lanes, %d datagrams defragmented", jobs, st.Connections, st.Lanes, st.Defragmented)
		}
		tenantMessagesOnce(t, l, jobs)
		if t.Failed() {
			t.Logf("records:\n%s", strings.Join(l.lines, "\n"))
			return
		}
	}
}

// TestTenantsStrayReply: connections A in VLAN 10 and B in VLAN 20 at
// once on one 4-tuple (a lane each), one of B's replies (its fifth
// packet, before A's third message) routed through VLAN 10: it goes to
// B, and A goes on. Until a hostile review that one segment ended A as a
// reconnect (strayOf) and sent VLAN 10 to B's lane: A lost 16 of its 20
// messages, shown open at the end (tshark, keying tcp.stream on the
// 4-tuple, ends A at B's SYN and decodes B's messages only).
func TestTenantsStrayReply(t *testing.T) {
	t.Parallel()
	in := func(id uint16) func([]byte) []byte { return func(f []byte) []byte { return synth.VLAN(id, f) } }
	b := synth.TenantConv("B", 0x70000000, 500*time.Microsecond, 10)
	bw := synth.Wrapped(b, 0, in(20))
	bw[8] = synth.Packet{TS: b[8].TS, Data: synth.VLAN(10, b[8].Data)}
	pkts := synth.ByTime(synth.Wrapped(synth.TenantConv("A", 0x10000000, 0, 10), 0, in(10)), bw)
	for _, jobs := range []int{1, 2} {
		l, st := run(pkts, Options{}, jobs)
		if st.Connections != 2 || st.Lanes != 1 {
			t.Errorf("-j %d: %d connections, %d lanes; want 2, 1", jobs, st.Connections, st.Lanes)
		}
		tenantMessagesOnce(t, l, jobs)
		if t.Failed() {
			t.Logf("records:\n%s", strings.Join(l.lines, "\n"))
			return
		}
	}
}

// tenantMessagesOnce checks that conn 1 holds A's 20 messages (synth's
// TenantConv) and conn 2 B's, each once.
func tenantMessagesOnce(t *testing.T, l *logSink, jobs int) {
	t.Helper()
	for k, name := range []string{"A", "B"} {
		for i := range 10 {
			for _, m := range []string{fmt.Sprintf("c2s %q", fmt.Sprintf("%s c%d", name, i)), fmt.Sprintf("s2c %q", fmt.Sprintf("%s s%d", name, i))} {
				if n := l.count(fmt.Sprintf("conn %d 10.0.0.1:40000->10.0.0.2:80 message %s []", k+1, m)); n != 1 {
					t.Errorf("-j %d: conn %d: message %s seen %d times", jobs, k+1, m, n)
				}
			}
		}
	}
}
