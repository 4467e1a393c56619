package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"time"
)

// pcapng is read by our own block reader rather than pcapgo.NgReader
// (gopacket v1.1.19), because NgReader:
//   - keeps an interface's link type as a uint8 layers.LinkType, so SLL2
//     (276) comes out as 20 with no way to recover it per packet;
//   - panics on hostile input: an if_tsresol of 2^-64 or 10^-20 and more
//     makes its divisor 0 (integer divide by zero);
//   - allocates whatever caplen a packet block claims (up to 4 GB).
//
// It does handle several sections and mixed link types; so does this reader,
// which is small: SHB, IDB, EPB, SPB and the obsolete PB, all other blocks
// skipped, if_tsresol and if_tsoffset honoured, both byte orders, and a new
// byte order at each Section Header Block.
//
// Spec: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html

// Block types (pcapng §4 and §11.1).
const (
	blockSection   = 0x0a0d0d0a
	blockInterface = 0x00000001
	blockPacket    = 0x00000002 // obsolete Packet Block (Appendix A)
	blockSimple    = 0x00000003
	blockEnhanced  = 0x00000006
	blockSecrets   = 0x0000000a // Decryption Secrets Block (pcapng §4.7)
)

// maxSecrets bounds the Decryption Secrets kept from one file.
const maxSecrets = 16 << 20

// Interface Description Block options (pcapng §4.2).
const (
	optEndOfOpt = 0
	optTSResol  = 9
	optTSOffset = 14
)

const (
	byteOrderMagic = 0x1a2b3c4d
	// maxMetaBlock bounds the IDB bodies we buffer to parse options.
	maxMetaBlock = 1 << 20
	// maxInterfaces bounds per-section state on hostile input.
	maxInterfaces = 1 << 16
)

type ngIface struct {
	link     LinkType
	snaplen  uint32
	binary   bool   // resolution is 2^-exp rather than 10^-exp
	exp      uint8  // resolution exponent
	units    uint64 // timestamp units per second when !binary
	tsOffset int64  // seconds added to every timestamp
}

type ngSource struct {
	*reader
	big    bool // byte order of the current section
	ifaces []ngIface
	off    int64 // file offset of the next block (decompressed)
	hdr    [28]byte
	data   []byte // packet buffer, reused; grows up to MaxCaptureLength
	meta   []byte // IDB body buffer, reused

	secrets     []Secrets
	secretBytes int
}

// Secrets is the body of a pcapng Decryption Secrets Block: a secrets type
// (0x544c534b "TLSK" for an NSS key log) and the data.
type Secrets struct {
	Type uint32
	Data []byte
}

func (s *ngSource) Secrets() []Secrets { return s.secrets }

// Input is "": one input.
func (s *ngSource) Input() string { return "" }

func newNgSource(r *reader) (Source, error) {
	s := &ngSource{reader: r}
	// Read the first Section Header Block now, so a broken one fails Open.
	if _, _, err := s.readBlock(true); err != nil {
		if err == io.EOF {
			return nil, s.readError("section header block at offset 0", err)
		}
		return nil, err
	}
	return s, nil
}

func (s *ngSource) u16(b []byte) uint16 {
	if s.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (s *ngSource) u32(b []byte) uint32 {
	if s.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (s *ngSource) Next() (Packet, error) {
	for s.err == nil {
		p, ok := s.buffered()
		if !ok {
			var err error
			if p, ok, err = s.readBlock(false); err != nil {
				s.err = err
				break
			}
		}
		if ok {
			if s.big {
				toLittleEndian(&p)
			}
			return p, nil
		}
	}
	return Packet{}, s.err
}

// buffered returns the next block's packet when the block is an Enhanced
// Packet Block whole and valid in the read buffer: its header, data and
// trailer are read from one Peek, the data handed out as a slice of the
// buffer, as readData does. Anything else (another block type, a block
// past the end of the buffer, any field readBlock would refuse) is left
// to readBlock, which reads it from the same place: the packets and the
// errors are readBlock's alone.
func (s *ngSource) buffered() (Packet, bool) {
	avail := s.br.Buffered()
	if avail < 28+4 {
		return Packet{}, false
	}
	h, _ := s.br.Peek(28)
	total := s.u32(h[4:8])
	if s.u32(h[0:4]) != blockEnhanced || total < 28+4 || total%4 != 0 || int64(total) > int64(avail) {
		return Packet{}, false
	}
	id, caplen, origlen := s.u32(h[8:12]), s.u32(h[20:24]), s.u32(h[24:28])
	if id >= uint32(len(s.ifaces)) || caplen > total-28-4 || caplen > MaxCaptureLength {
		return Packet{}, false
	}
	b, _ := s.br.Peek(int(total))
	if s.u32(b[total-4:]) != total {
		return Packet{}, false
	}
	s.br.Discard(int(total))
	s.off += int64(total)
	iface := &s.ifaces[id]
	end := 28 + caplen
	return Packet{
		Timestamp:     iface.time(uint64(s.u32(h[12:16]))<<32 | uint64(s.u32(h[16:20]))),
		Link:          iface.link,
		CaptureLength: int(caplen),
		Length:        int(max(origlen, caplen)),
		Data:          b[28:end:end],
	}, true
}

// readBlock reads one block. It returns ok with the packet for a packet
// block, io.EOF at a clean end of input, or an error.
func (s *ngSource) readBlock(first bool) (p Packet, ok bool, err error) {
	start := s.off
	if n, err := io.ReadFull(s.br, s.hdr[:8]); err != nil {
		if n == 0 && err == io.EOF {
			return p, false, io.EOF
		}
		return p, false, s.blockError(start, err)
	}
	typ := s.u32(s.hdr[0:4]) // a Section Header's type reads the same either way
	read := uint32(8)        // bytes of the block consumed so far
	if typ == blockSection {
		if _, err := io.ReadFull(s.br, s.hdr[8:12]); err != nil {
			return p, false, s.blockError(start, err)
		}
		switch binary.BigEndian.Uint32(s.hdr[8:12]) {
		case byteOrderMagic:
			s.big = true
		case bits.ReverseBytes32(byteOrderMagic):
			s.big = false
		default:
			return p, false, s.errorf("section header at offset %d: bad byte-order magic % x", start, s.hdr[8:12])
		}
		read = 12
	} else if first {
		return p, false, s.errorf("pcapng file does not start with a section header block")
	}
	total := s.u32(s.hdr[4:8])
	if total < 12 || total%4 != 0 {
		return p, false, s.errorf("block at offset %d: invalid block length %d", start, total)
	}
	s.off += int64(total)

	switch typ {
	case blockSection:
		if total < 28 {
			return p, false, s.errorf("section header at offset %d: invalid block length %d", start, total)
		}
		if err := s.readFull(start, s.hdr[12:16]); err != nil {
			return p, false, err
		}
		read += 4
		if major, minor := s.u16(s.hdr[12:14]), s.u16(s.hdr[14:16]); major != 1 {
			return p, false, s.errorf("section header at offset %d: unsupported pcapng version %d.%d", start, major, minor)
		}
		s.ifaces = s.ifaces[:0] // interface ids restart in each section

	case blockInterface:
		if err := s.readInterface(start, total-read-4); err != nil {
			return p, false, err
		}
		read = total - 4

	case blockEnhanced, blockPacket:
		// Both: interface id, timestamp high, timestamp low, caplen, origlen;
		// the obsolete one has a 16-bit id followed by a 16-bit drop count.
		if total < read+20+4 {
			return p, false, s.errorf("packet block at offset %d: invalid block length %d", start, total)
		}
		h := s.hdr[8:28]
		if err := s.readFull(start, h); err != nil {
			return p, false, err
		}
		read += 20
		id := s.u32(h[0:4])
		if typ == blockPacket {
			id = uint32(s.u16(h[0:2]))
		}
		if id >= uint32(len(s.ifaces)) {
			return p, false, s.errorf("packet block at offset %d: interface %d not defined in this section (%d defined)", start, id, len(s.ifaces))
		}
		iface := &s.ifaces[id]
		caplen, origlen := s.u32(h[12:16]), s.u32(h[16:20])
		if caplen > total-read-4 {
			return p, false, s.errorf("packet block at offset %d: captured length %d exceeds block length %d", start, caplen, total)
		}
		data, err := s.readData(start, caplen, total-read)
		if err != nil {
			return p, false, err
		}
		read += caplen
		p = Packet{
			Timestamp: iface.time(uint64(s.u32(h[4:8]))<<32 | uint64(s.u32(h[8:12]))),
			Link:      iface.link,
		}
		p.CaptureLength, p.Length, p.Data = int(caplen), int(max(origlen, caplen)), data
		ok = true

	case blockSecrets:
		// Secrets type, length, data (then options, skipped below).
		if total < read+8+4 {
			return p, false, s.errorf("decryption secrets block at offset %d: invalid block length %d", start, total)
		}
		if err := s.readFull(start, s.hdr[8:16]); err != nil {
			return p, false, err
		}
		read += 8
		typ, n := s.u32(s.hdr[8:12]), s.u32(s.hdr[12:16])
		if n > total-read-4 {
			return p, false, s.errorf("decryption secrets block at offset %d: secrets length %d exceeds block length %d", start, n, total)
		}
		if s.secretBytes+int(n) <= maxSecrets {
			data := make([]byte, n)
			if err := s.readFull(start, data); err != nil {
				return p, false, err
			}
			read += n
			s.secrets = append(s.secrets, Secrets{Type: typ, Data: data})
			s.secretBytes += int(n)
		}

	case blockSimple:
		// No interface id (always 0), no timestamp, no caplen: the data runs
		// to the end of the block, cut to the interface's snaplen.
		if total < read+4+4 {
			return p, false, s.errorf("simple packet block at offset %d: invalid block length %d", start, total)
		}
		if len(s.ifaces) == 0 {
			return p, false, s.errorf("simple packet block at offset %d: no interface defined in this section", start)
		}
		if err := s.readFull(start, s.hdr[8:12]); err != nil {
			return p, false, err
		}
		read += 4
		iface := &s.ifaces[0]
		origlen := s.u32(s.hdr[8:12])
		caplen := min(origlen, total-read-4)
		if iface.snaplen != 0 {
			caplen = min(caplen, iface.snaplen)
		}
		data, err := s.readData(start, caplen, total-read)
		if err != nil {
			return p, false, err
		}
		read += caplen
		p = Packet{Link: iface.link, CaptureLength: int(caplen), Length: int(origlen), Data: data}
		ok = true
	}

	// Skip options, padding and unknown block bodies; then the trailing
	// copy of the length, which must match.
	if err := s.skip(start, uint64(total-read-4)); err != nil {
		return p, false, err
	}
	if err := s.readFull(start, s.hdr[0:4]); err != nil {
		return p, false, err
	}
	if trailer := s.u32(s.hdr[0:4]); trailer != total {
		return p, false, s.errorf("block at offset %d: trailing length %d does not match length %d", start, trailer, total)
	}
	return p, ok, nil
}

// readData reads n packet bytes; rest is the bytes of the block left from
// them on, the trailing length included. When all of rest is in the read
// buffer already, the data is handed out as a slice of it, not copied: the
// rest of the block is then read from the buffer alone, which therefore
// stays as it is until the next block (the capacity ends with the data, so
// that appending to it cannot overwrite what follows). Otherwise the data
// is read into the reused buffer s.data.
func (s *ngSource) readData(start int64, n, rest uint32) ([]byte, error) {
	if n > MaxCaptureLength {
		return nil, s.errorf("packet block at offset %d claims %d captured bytes, more than the %d-byte limit", start, n, MaxCaptureLength)
	}
	if int64(rest) <= int64(s.br.Buffered()) {
		b, _ := s.br.Peek(int(n))
		s.br.Discard(int(n))
		return b[:n:n], nil
	}
	if uint32(cap(s.data)) < n {
		s.data = make([]byte, max(n, 64<<10))
	}
	s.data = s.data[:n]
	return s.data, s.readFull(start, s.data)
}

// readInterface parses an Interface Description Block body of n bytes.
func (s *ngSource) readInterface(start int64, n uint32) error {
	if n < 8 || n > maxMetaBlock {
		return s.errorf("interface description block at offset %d: invalid block length %d", start, n+12)
	}
	if len(s.ifaces) >= maxInterfaces {
		return s.errorf("interface description block at offset %d: more than %d interfaces in a section", start, maxInterfaces)
	}
	if uint32(cap(s.meta)) < n {
		s.meta = make([]byte, n)
	}
	b := s.meta[:n]
	if err := s.readFull(start, b); err != nil {
		return err
	}
	iface := ngIface{
		link:    LinkType(s.u16(b[0:2])),
		snaplen: s.u32(b[4:8]),
		exp:     6, // microseconds unless if_tsresol says otherwise
	}
	var resol byte = 6
	// Options: code, length, value padded to 4 bytes. A malformed option
	// list ends parsing; the defaults stand.
	for opts := b[8:]; len(opts) >= 4; {
		code, l := s.u16(opts[0:2]), int(s.u16(opts[2:4]))
		if code == optEndOfOpt || 4+l > len(opts) {
			break
		}
		v := opts[4 : 4+l]
		switch {
		case code == optTSResol && l >= 1:
			resol = v[0]
			iface.binary, iface.exp = resol&0x80 != 0, resol&0x7f
		case code == optTSOffset && l >= 8:
			if s.big {
				iface.tsOffset = int64(binary.BigEndian.Uint64(v))
			} else {
				iface.tsOffset = int64(binary.LittleEndian.Uint64(v))
			}
		}
		opts = opts[min(len(opts), 4+(l+3)&^3):]
	}
	if iface.binary && iface.exp > 63 || !iface.binary && iface.exp > 19 {
		return s.errorf("interface description block at offset %d: unsupported timestamp resolution %d", start, resol)
	}
	if !iface.binary {
		iface.units = 1
		for range iface.exp {
			iface.units *= 10
		}
	}
	s.ifaces = append(s.ifaces, iface)
	return nil
}

// time converts a timestamp in the interface's units to a time.
func (f *ngIface) time(ts uint64) time.Time {
	var sec, nsec uint64
	switch {
	case f.binary && f.exp == 0:
		sec = ts
	case f.binary:
		sec = ts >> f.exp
		// frac < 2^exp, so frac*1e9 / 2^exp fits and Div64 cannot overflow.
		hi, lo := bits.Mul64(ts&(1<<f.exp-1), 1e9)
		nsec, _ = bits.Div64(hi, lo, 1<<f.exp)
	case f.units <= 1e9:
		sec, nsec = ts/f.units, ts%f.units*(1e9/f.units)
	default:
		sec, nsec = ts/f.units, ts%f.units/(f.units/1e9)
	}
	return ngTime(sec, f.tsOffset, int64(nsec))
}

// The seconds of pcapng times kept: years 1 to 9999 (RFC 3339's). A
// 64-bit timestamp in seconds and an if_tsoffset of ±2^63 reach far past
// them, where time.Time's seconds wrap (a time past 2^63 - 62135596800 s
// comes out before year 1) and a time before year 1 is earlier than the
// zero time that stands for none: a connection whose packets were stamped
// there lost every message (one record of each packet, none decoded).
// Times past them are taken at the bound (the capture clock's jump says
// where).
const (
	minNgSec = -62135596800 + 1 // 0001-01-01T00:00:01Z
	maxNgSec = 253402300799     // 9999-12-31T23:59:59Z
)

// ngTime is sec seconds plus off, and nsec nanoseconds, within
// minNgSec..maxNgSec.
func ngTime(sec uint64, off, nsec int64) time.Time {
	var s int64
	if sec > math.MaxInt64 {
		// sec + off >= 0 (off >= -2^63): the sum mod 2^64 is it when off
		// is negative, and past the bound when not.
		if u := sec + uint64(off); off >= 0 || u > maxNgSec {
			s = maxNgSec
		} else {
			s = int64(u)
		}
	} else {
		v := int64(sec)
		switch {
		case off > 0 && v > maxNgSec-off:
			s = maxNgSec
		case off < 0 && v < minNgSec-off:
			s = minNgSec
		default:
			s = min(v+off, maxNgSec)
		}
	}
	if s == maxNgSec || s == minNgSec {
		nsec = 0
	}
	return time.Unix(s, nsec).UTC()
}

func (s *ngSource) readFull(start int64, b []byte) error {
	if _, err := io.ReadFull(s.br, b); err != nil {
		return s.blockError(start, err)
	}
	return nil
}

// skip discards n bytes; a 4 GB block length on a short file reads to its
// end and reports truncation, without allocating.
func (s *ngSource) skip(start int64, n uint64) error {
	for n > 0 {
		chunk := int(min(n, 1<<30))
		if _, err := s.br.Discard(chunk); err != nil {
			return s.blockError(start, err)
		}
		n -= uint64(chunk)
	}
	return nil
}

func (s *ngSource) blockError(start int64, err error) error {
	return s.readError(fmt.Sprintf("block at offset %d", start), err)
}
