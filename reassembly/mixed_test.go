package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestSeqSpaceMixed: two conversations on one 4-tuple at once in one
// tenant (or told apart only by MPLS labels, which are no tenant), with
// sequence spaces 1.5 GiB apart. The second's SYN ends the first (port
// reuse, as tshark has it) and the first's later segments, outside the
// second's sequence space, are not the second's: not decoded, counted as
// skipped, seq_space_mixed; nothing lost. Without foreign, gopacket took
// them for bytes past a gap: B's server messages gave way to A's, and
// 1 610 612 735 bytes said lost (4 294 967 256 and 4 294 967 278, below
// zero wrapped, when the second starts midway). Without its SYN, the
// second's segments are foreign to the first.
func TestSeqSpaceMixed(t *testing.T) {
	t.Parallel()
	a := synth.TenantConv("A", 0x10000000, 0, 10)
	same := func(f []byte) []byte { return f }
	mpls := func(f []byte) []byte { return synth.Ether(0x8847, synth.MPLS([]uint32{100, 200}, f[14:])) }
	conv := func(name string, at time.Duration, wrap func([]byte) []byte) []synth.Packet {
		return synth.Wrapped(synth.TenantConv(name, 0x70000000, 0, 10), at, wrap)
	}
	for _, tc := range []struct {
		name string
		pkts []synth.Packet
		conn int    // the connection decoded whole
		who  string // its conversation
	}{
		{"at once", synth.ByTime(a, conv("B", 500*time.Microsecond, same)), 2, "B"},
		{"midway", synth.ByTime(a, conv("C", 10500*time.Microsecond, same)), 2, "C"},
		{"midway, MPLS", synth.ByTime(a, conv("C", 10500*time.Microsecond, mpls)), 2, "C"},
		{"midway, no SYN", synth.ByTime(a, conv("C", 10500*time.Microsecond, same)[2:]), 1, "A"},
	} {
		var want []string
		prefix := fmt.Sprintf("conn %d 10.0.0.1:40000->10.0.0.2:80 ", tc.conn)
		for i := range 10 {
			want = append(want, fmt.Sprintf("%smessage c2s %q []", prefix, fmt.Sprintf("%s c%d", tc.who, i)), fmt.Sprintf("%smessage s2c %q []", prefix, fmt.Sprintf("%s s%d", tc.who, i)))
		}
		want = append(want, prefix+"end clean frames 11/11 [seq_space_mixed]")
		lines := edgeRun(t, tc.name, tc.pkts, want...)
		n := 0
		for _, s := range lines {
			if strings.Contains(s, " counts lost ") {
				n++
				if !strings.Contains(s, " counts lost 0/0 ") {
					t.Errorf("%s: %s", tc.name, s)
				}
			}
			if strings.HasPrefix(s, prefix+"counts") && strings.HasSuffix(s, "skipped 0/0") {
				t.Errorf("%s: the other's bytes not counted: %s", tc.name, s)
			}
		}
		if n == 0 && lines != nil {
			t.Errorf("%s: no counts", tc.name)
		}
	}
}
