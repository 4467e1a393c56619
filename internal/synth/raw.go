package synth

import "encoding/binary"

// RawTCP4 is one IPv4 packet (LINKTYPE_RAW, no checksums) carrying one TCP
// segment with the given flags: for captures too big to build with
// gopacket, written packet by packet.
func RawTCP4(src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags byte, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0], b[8], b[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(b[2:], uint16(40+len(payload)))
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[20:], sport)
	binary.BigEndian.PutUint16(b[22:], dport)
	binary.BigEndian.PutUint32(b[24:], seq)
	binary.BigEndian.PutUint32(b[28:], ack)
	b[32], b[33] = 5<<4, flags
	binary.BigEndian.PutUint16(b[34:], 65535)
	return append(b, payload...)
}
