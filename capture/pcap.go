package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/gopacket/pcapgo"
)

// pcapSource reads classic pcap with pcapgo.Reader, which is correct for the
// records. We read the 24-byte file header ourselves first: pcapgo stores the
// link type as gopacket's uint8 layers.LinkType, which turns SLL2 (276) into
// 20, and its version errors are not one clear line.
//
// A record that is whole in the read buffer is handed out as a slice of
// it (see buffered), without copying; only a record that straddles the end
// of the buffer goes through pcapgo, which reads it into its own buffer.
type pcapSource struct {
	*reader
	pr    *pcapgo.Reader
	link  LinkType
	n     int // records delivered, for messages
	order binary.ByteOrder
	nano  uint32 // 1 for a nanosecond file, 1000 for microseconds
}

// recordHeaderLen is the size of a pcap record header: seconds, fraction,
// captured length, original length.
const recordHeaderLen = 16

func newPcapSource(r *reader) (Source, error) {
	hdr, err := r.br.Peek(24)
	if err != nil {
		return nil, r.readError("pcap file header", err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if m := binary.LittleEndian.Uint32(hdr); m == magicMicroSwapped || m == magicNanoSwapped {
		order = binary.BigEndian
	}
	major, minor := order.Uint16(hdr[4:6]), order.Uint16(hdr[6:8])
	if major != 2 || minor != 4 {
		return nil, r.errorf("unsupported pcap version %d.%d", major, minor)
	}
	// The upper 16 bits may carry FCS flags (libpcap's LT_LINKTYPE).
	link := LinkType(order.Uint32(hdr[20:24]) & 0xffff)

	// pcapgo wraps r.br in bufio.NewReader, which returns r.br itself since
	// it is already larger: no double buffering.
	pr, err := pcapgo.NewReader(r.br)
	if err != nil {
		return nil, r.errorf("pcap file header: %v", err)
	}
	// The file's snaplen is advisory (0 in some files, smaller than records
	// in others, 4 GB in hostile ones). pcapgo rejects records above it and
	// sizes its reusable buffer from it, so our own cap replaces it.
	pr.SetSnaplen(MaxCaptureLength)
	nano := uint32(1000)
	if m := binary.LittleEndian.Uint32(hdr); m == magicNano || m == magicNanoSwapped {
		nano = 1
	}
	return &pcapSource{reader: r, pr: pr, link: link, order: order, nano: nano}, nil
}

// Secrets: a pcap file carries none.
func (s *pcapSource) Secrets() []Secrets { return nil }

// Input is "": one input.
func (s *pcapSource) Input() string { return "" }

func (s *pcapSource) Next() (Packet, error) {
	if s.err != nil {
		return Packet{}, s.err
	}
	if p, ok := s.buffered(); ok {
		s.n++
		if s.order == binary.BigEndian {
			toLittleEndian(&p)
		}
		return p, nil
	}
	data, ci, err := s.pr.ZeroCopyReadPacketData()
	if err != nil {
		s.err = s.recordError(ci.CaptureLength, ci.Length, !ci.Timestamp.IsZero(), err)
		return Packet{}, s.err
	}
	s.n++
	p := Packet{
		Timestamp:     ci.Timestamp,
		CaptureLength: ci.CaptureLength,
		Length:        ci.Length,
		Link:          s.link,
		Data:          data,
	}
	if s.order == binary.BigEndian {
		toLittleEndian(&p)
	}
	return p, nil
}

// buffered returns the next record as a slice of the read buffer when the
// whole record is in it already: nothing is read from the file and nothing
// copied. Anything else (a record past the end of the buffer, a header
// pcapgo rejects, the end of the input) is left to pcapgo, so the reads from
// the file and the errors are those of pcapgo alone. Data is valid until
// the next call, which may refill the buffer; its capacity ends with the
// record, so that appending to it cannot overwrite the next one.
func (s *pcapSource) buffered() (Packet, bool) {
	avail := s.br.Buffered()
	if avail < recordHeaderLen {
		return Packet{}, false
	}
	h, _ := s.br.Peek(recordHeaderLen)
	caplen, origlen := s.order.Uint32(h[8:12]), s.order.Uint32(h[12:16])
	if caplen > MaxCaptureLength || caplen > origlen || avail < recordHeaderLen+int(caplen) {
		return Packet{}, false
	}
	n := recordHeaderLen + int(caplen)
	b, _ := s.br.Peek(n)
	s.br.Discard(n)
	// As pcapgo computes it, the fraction times the factor in 32 bits.
	ts := time.Unix(int64(s.order.Uint32(b[0:4])), int64(s.order.Uint32(b[4:8])*s.nano)).UTC()
	return Packet{
		Timestamp:     ts,
		CaptureLength: int(caplen),
		Length:        int(origlen),
		Link:          s.link,
		Data:          b[recordHeaderLen:n:n],
	}, true
}

// recordError turns pcapgo's error for record s.n+1 into ours. pcapgo returns
// the header it read along with the error, which tells a clean io.EOF before
// a record from a record cut short.
func (s *pcapSource) recordError(caplen, origlen int, sawHeader bool, err error) error {
	where := fmt.Sprintf("record %d", s.n+1)
	switch {
	case !sawHeader && errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		return io.EOF
	case !sawHeader:
		return s.readError(where+" header", err)
	case caplen > MaxCaptureLength:
		return s.errorf("%s claims %d captured bytes, more than the %d-byte limit", where, caplen, MaxCaptureLength)
	case caplen > origlen:
		return s.errorf("%s: captured length %d exceeds original length %d", where, caplen, origlen)
	}
	return s.readError(where, err)
}
