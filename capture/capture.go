// Package capture opens pcap and pcapng files, gzip-compressed or not, and
// hands out their packets together with each packet's link type.
package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// LinkType is the LINKTYPE_ number from the file. It is a uint32 because
// gopacket's layers.LinkType is a uint8 and cannot hold SLL2 (276).
type LinkType uint32

// Link types wsdump knows by name (https://www.tcpdump.org/linktypes.html).
const (
	LinkNull      LinkType = 0
	LinkEthernet  LinkType = 1
	LinkPPP       LinkType = 9
	LinkPPPHDLC   LinkType = 50
	LinkRaw       LinkType = 101
	LinkCHDLC     LinkType = 104
	LinkLoop      LinkType = 108
	LinkLinuxSLL  LinkType = 113
	LinkIPv4      LinkType = 228
	LinkIPv6      LinkType = 229
	LinkNFLOG     LinkType = 239
	LinkLinuxSLL2 LinkType = 276
)

func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "NULL"
	case LinkEthernet:
		return "ETHERNET"
	case LinkPPP:
		return "PPP"
	case LinkPPPHDLC:
		return "PPP_HDLC"
	case LinkRaw:
		return "RAW"
	case LinkCHDLC:
		return "C_HDLC"
	case LinkNFLOG:
		return "NFLOG"
	case LinkLoop:
		return "LOOP"
	case LinkLinuxSLL:
		return "LINUX_SLL"
	case LinkIPv4:
		return "IPV4"
	case LinkIPv6:
		return "IPV6"
	case LinkLinuxSLL2:
		return "LINUX_SLL2"
	}
	return "LINKTYPE_" + strconv.FormatUint(uint64(l), 10)
}

// Packet is one captured packet.
type Packet struct {
	Timestamp     time.Time
	CaptureLength int      // bytes in Data
	Length        int      // original length on the wire
	Link          LinkType // per packet: pcapng interfaces may differ
	Data          []byte   // valid only until the next call to Next
	// Input numbers the input the packet came from, of several read
	// merged (Merge, MergeInputs: their order, from 0); 0 for one input.
	Input int
}

// Source hands out the packets of one capture in file order.
type Source interface {
	Next() (Packet, error) // io.EOF at the clean end of the input
	// Secrets returns the decryption secrets read so far (pcapng DSBs; a
	// DSB comes before the packets it decrypts): none for other formats.
	// A source that wraps another returns the other's.
	Secrets() []Secrets
	// Input names the input the last packet Next returned came from,
	// when the source reads several merged (Merge, MergeInputs): a
	// notice about that packet names its file. "" for one input. A
	// source that wraps another returns the other's.
	Input() string
	Close() error
}

// MaxCaptureLength is the largest record accepted, as in Wireshark
// (WTAP_MAX_PACKET_SIZE_STANDARD). A record claiming more is an error, so
// hostile headers never make us allocate more than this per buffer.
const MaxCaptureLength = 256 << 10

// bufferSize is the read-ahead on the input. Records whole in it are
// handed out as slices of it (see pcapSource.buffered), read where the
// last read put them: small enough to stay in the CPU's cache until then
// (BenchmarkNextPcap: a third less CPU than with 1 MiB), large enough that
// reading costs few system calls (about 4 per MB).
const bufferSize = 256 << 10

// File magic numbers, as read little-endian from the first four bytes.
const (
	magicMicro        = 0xa1b2c3d4
	magicNano         = 0xa1b23c4d
	magicMicroSwapped = 0xd4c3b2a1
	magicNanoSwapped  = 0x4d3cb2a1
	magicPcapng       = 0x0a0d0d0a // the Section Header Block type, a palindrome
)

// Options bound what reading a file may cost.
type Options struct {
	// MaxInflateRatio bounds a gzip-compressed file: at most this many
	// bytes decompressed per byte of the file read (0: the default).
	// Past it, Next fails with ErrInflateRatio.
	MaxInflateRatio int
	// BufferSize is the read-ahead (0: 256 KiB; a gzip file has two): small
	// for a file opened only to read its first packet (MergeInputs).
	BufferSize int
}

// DefaultMaxInflateRatio is the default of Options.MaxInflateRatio, just
// above what one layer of deflate can give (1 032 bytes per byte): no
// gzip file reaches it (pcap files gzip 2.7 to 4.6 times, the committed
// captures at gzip -9; a file of zeros 1 000 times), and decompressing
// still costs at most that much per byte of the file.
const DefaultMaxInflateRatio = 1100

// inflateAllowance is decompressed output allowed beyond the ratio, so that
// a small file with a high ratio still opens.
const inflateAllowance = 1 << 20

// ErrInflateRatio is the error of a gzip-compressed file that decompresses
// to more than Options.MaxInflateRatio bytes per byte (a decompression
// bomb): reading stops there.
var ErrInflateRatio = errors.New("decompresses to more than the --max-inflate-ratio bound (a decompression bomb?)")

// Open opens a pcap or pcapng file, gzip-compressed or not, detected from
// magic bytes (not the file name). path "-" reads standard input.
func Open(path string) (Source, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with bounds.
func OpenWith(path string, o Options) (Source, error) {
	if path == "-" {
		// Standard input belongs to the process: Close leaves it open.
		return newSource(os.Stdin, "standard input", nil, o)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	src, err := newSource(f, path, f, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

// NewReader does what Open does over any reader. Close does not close r.
func NewReader(r io.Reader) (Source, error) { return NewReaderWith(r, Options{}) }

// NewReaderWith is NewReader with bounds.
func NewReaderWith(r io.Reader, o Options) (Source, error) {
	return newSource(r, "", nil, o)
}

// countingReader counts the bytes read from the file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ratioReader stops a decompressed stream that outgrows its input by more
// than ratio.
type ratioReader struct {
	r     io.Reader
	in    *countingReader
	out   int64
	ratio int64
}

func (r *ratioReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.out += int64(n)
	if r.out > r.ratio*r.in.n+inflateAllowance {
		return n, fmt.Errorf("gzip: %w: %d bytes from the first %d of the file, over %d per byte", ErrInflateRatio, r.out, r.in.n, r.ratio)
	}
	return n, err
}

// reader is the state shared by both formats: the buffered input, the name
// for messages, what to close, and the first error, which Next repeats.
type reader struct {
	br      *bufio.Reader
	name    string
	closers []io.Closer
	err     error
}

func (r *reader) Close() error {
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		errs = append(errs, r.closers[i].Close())
	}
	r.closers = nil
	return errors.Join(errs...)
}

// errorf formats a one-line error prefixed with "capture: NAME: ".
func (r *reader) errorf(format string, args ...any) error {
	return fmt.Errorf(prefix(r.name)+format, args...)
}

func prefix(name string) string {
	if name == "" {
		return "capture: "
	}
	return "capture: " + name + ": "
}

// readError describes a failed read in the middle of a record: running out
// of input wraps io.ErrUnexpectedEOF, anything else (I/O, gzip) is kept.
func (r *reader) readError(where string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.errorf("%s: file is truncated: %w", where, io.ErrUnexpectedEOF)
	}
	return r.errorf("%s: read error: %w", where, err)
}

func newSource(in io.Reader, name string, closer io.Closer, o Options) (Source, error) {
	counted := &countingReader{r: in}
	size := o.BufferSize
	if size <= 0 {
		size = bufferSize
	}
	r := &reader{br: bufio.NewReaderSize(counted, size), name: name}
	if closer != nil {
		r.closers = append(r.closers, closer)
	}
	head, err := r.peekMagic("")
	if err != nil {
		return nil, err
	}
	if head[0] == 0x1f && len(head) > 1 && head[1] == 0x8b {
		zr, err := gzip.NewReader(r.br)
		if err != nil {
			return nil, r.readError("gzip header", err)
		}
		r.closers = append(r.closers, zr)
		ratio := int64(o.MaxInflateRatio)
		if ratio <= 0 {
			ratio = DefaultMaxInflateRatio
		}
		r.br = bufio.NewReaderSize(&ratioReader{r: zr, in: counted, ratio: ratio}, size)
		if head, err = r.peekMagic(" after gzip decompression"); err != nil {
			return nil, err
		}
	}
	if len(head) == 4 {
		switch binary.LittleEndian.Uint32(head) {
		case magicMicro, magicNano, magicMicroSwapped, magicNanoSwapped:
			return newPcapSource(r)
		case magicPcapng:
			return newNgSource(r)
		}
	}
	return nil, r.errorf("not a pcap or pcapng file (starts with % x)", head)
}

// peekMagic returns up to four leading bytes, at least one.
func (r *reader) peekMagic(what string) ([]byte, error) {
	head, err := r.br.Peek(4)
	if len(head) > 0 {
		return head, nil
	}
	if err == io.EOF {
		return nil, r.errorf("empty file%s", what)
	}
	return nil, r.errorf("read error: %w", err)
}
