// What a receiving TCP does that gopacket's reassembly does not: the
// wrap of the sequence space, and bytes the receiver drops (past a FIN,
// on a RST).

package reassembly

import "github.com/google/gopacket/layers"

// seqOrigin is where gopacket sees each side's first sequence number:
// its Sequence.Difference is one short across the wrap of the sequence
// space (it adds 2^32-1, not 2^32, when one number is in the last quarter
// and the other in the first), so a retransmission across the wrap gave
// a byte twice and a gap across it was a byte short. Each side's numbers
// are shifted (after Accept has read them as they are) so that the first
// is at 2^30: gopacket meets the wrap only after 3 GiB of that side.
const seqOrigin = 1 << 30

// rebase returns the sequence number gopacket sees for seq of side sd.
func (s *stream) rebase(sd int, seq uint32) uint32 { return seq - s.firstSeq[sd] + seqOrigin }

// discarded returns how many of a segment's last bytes its receiver
// drops: all of a RST's (RFC 9293 §3.5.3: at most a diagnostic, never
// the application's; tshark shows them as the reset cause), and those at
// or past the FIN the side sent before (§3.10.7.4: ignored once the FIN
// is in). They were decoded (a RST's) or dropped by gopacket with no
// word (after a FIN; tshark decodes them if they follow in sequence).
func (s *stream) discarded(sd int, tcp *layers.TCP) int {
	n := len(tcp.Payload)
	if n == 0 || tcp.RST {
		return n
	}
	if !s.fin[sd] {
		return 0
	}
	past := int64(int32(tcp.Seq + uint32(n) - (s.end[sd] - 1))) // end is the FIN's number + 1
	return int(min(max(past, 0), int64(n)))
}
