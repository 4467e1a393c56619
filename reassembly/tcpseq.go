// What a receiving TCP does that gopacket's reassembly does not: the
// wrap of the sequence space.

package reassembly

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
