package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"
)

// PcapngWriter writes packets to a pcapng file as they are captured
// (wsdump -w), for re-reading with Open. It is our own because pcapgo's
// NgWriter (gopacket v1.1.19) takes the link type as a uint8
// layers.LinkType and so cannot write LINUX_SLL2 (276), what "-i any"
// captures.
//
// One section; one Interface Description Block per link type, written
// before the first packet of that type; Enhanced Packet Blocks with
// nanosecond timestamps; little-endian.
type PcapngWriter struct {
	w       *bufio.Writer
	opts    PcapngWriterOptions
	ifaces  map[LinkType]uint32
	links   []LinkType // by interface ID
	scratch []byte
	err     error
}

// PcapngWriterOptions describes the capture in the file's metadata.
type PcapngWriterOptions struct {
	Interface   string // if_name, e.g. "eth0"
	Filter      string // if_filter, the capture filter as text
	SnapLen     int    // if_snaplen (default MaxCaptureLength)
	Application string // shb_userappl (default "wsdump")
}

// pcapng block types and options written (pcapng §4, §11).
const (
	blockInterfaceStats = 0x00000005
	optSHBUserAppl      = 4
	optIfName           = 2
	optIfFilter         = 11
	optISBStartTime     = 2
	optISBEndTime       = 3
	optISBIfRecv        = 4
	optISBIfDrop        = 5
	nsResolution        = 9 // if_tsresol: 10^-9
)

// NewPcapngWriter writes the Section Header Block to w. Close (or Flush)
// pushes buffered blocks; neither closes w.
func NewPcapngWriter(w io.Writer, opts PcapngWriterOptions) (*PcapngWriter, error) {
	if opts.SnapLen <= 0 {
		opts.SnapLen = MaxCaptureLength
	}
	if opts.Application == "" {
		opts.Application = "wsdump"
	}
	pw := &PcapngWriter{w: bufio.NewWriterSize(w, 64<<10), opts: opts, ifaces: map[LinkType]uint32{}}
	b := pw.scratch[:0]
	b = binary.LittleEndian.AppendUint32(b, byteOrderMagic)
	b = binary.LittleEndian.AppendUint16(b, 1) // version 1.0
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, math.MaxUint64) // section length unknown
	b = appendOption(b, optSHBUserAppl, []byte(opts.Application))
	b = appendOption(b, optEndOfOpt, nil)
	if err := pw.block(blockSection, b, nil); err != nil {
		return nil, err
	}
	return pw, nil
}

// WritePacket writes p as an Enhanced Packet Block. Idle ticks (no Data)
// are not packets and are skipped.
func (pw *PcapngWriter) WritePacket(p Packet) error {
	if pw.err != nil {
		return pw.err
	}
	if p.Idle() {
		return nil
	}
	id, err := pw.iface(p.Link)
	if err != nil {
		return err
	}
	ts := uint64(p.Timestamp.UnixNano())
	b := pw.scratch[:0]
	b = binary.LittleEndian.AppendUint32(b, id)
	b = binary.LittleEndian.AppendUint32(b, uint32(ts>>32))
	b = binary.LittleEndian.AppendUint32(b, uint32(ts))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p.Data)))
	b = binary.LittleEndian.AppendUint32(b, uint32(max(p.Length, len(p.Data))))
	pw.scratch = b
	return pw.block(blockEnhanced, b, p.Data)
}

// WriteStats writes an Interface Statistics Block for every interface
// described so far with the kernel's counters (as from LiveSource.Stats),
// between start and end.
func (pw *PcapngWriter) WriteStats(start, end time.Time, received, dropped uint64) error {
	for id := range pw.links {
		ts := uint64(end.UnixNano())
		b := pw.scratch[:0]
		b = binary.LittleEndian.AppendUint32(b, uint32(id))
		b = binary.LittleEndian.AppendUint32(b, uint32(ts>>32))
		b = binary.LittleEndian.AppendUint32(b, uint32(ts))
		b = appendTSOption(b, optISBStartTime, start)
		b = appendTSOption(b, optISBEndTime, end)
		b = appendOption(b, optISBIfRecv, binary.LittleEndian.AppendUint64(nil, received))
		b = appendOption(b, optISBIfDrop, binary.LittleEndian.AppendUint64(nil, dropped))
		b = appendOption(b, optEndOfOpt, nil)
		pw.scratch = b
		if err := pw.block(blockInterfaceStats, b, nil); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes buffered blocks to the underlying writer, so a reader sees
// every packet so far.
func (pw *PcapngWriter) Flush() error {
	if pw.err == nil {
		if err := pw.w.Flush(); err != nil {
			pw.err = fmt.Errorf("capture: writing pcapng: %w", err)
		}
	}
	return pw.err
}

// Close flushes; it does not close the underlying writer.
func (pw *PcapngWriter) Close() error { return pw.Flush() }

// iface returns the interface ID for link, writing its IDB the first time.
func (pw *PcapngWriter) iface(link LinkType) (uint32, error) {
	if id, ok := pw.ifaces[link]; ok {
		return id, nil
	}
	if link > math.MaxUint16 {
		return 0, fmt.Errorf("capture: writing pcapng: link type %d does not fit", link)
	}
	id := uint32(len(pw.ifaces))
	b := pw.scratch[:0]
	b = binary.LittleEndian.AppendUint16(b, uint16(link))
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(pw.opts.SnapLen))
	if pw.opts.Interface != "" {
		b = appendOption(b, optIfName, []byte(pw.opts.Interface))
	}
	b = appendOption(b, optTSResol, []byte{nsResolution})
	if pw.opts.Filter != "" {
		// if_filter: a type byte (0: libpcap filter string), then the text.
		b = appendOption(b, optIfFilter, append([]byte{0}, pw.opts.Filter...))
	}
	b = appendOption(b, optEndOfOpt, nil)
	pw.scratch = b
	if err := pw.block(blockInterface, b, nil); err != nil {
		return 0, err
	}
	pw.ifaces[link] = id
	pw.links = append(pw.links, link)
	return id, nil
}

// block writes type, length, body, data padded to 32 bits, length.
func (pw *PcapngWriter) block(typ uint32, body, data []byte) error {
	if pw.err != nil {
		return pw.err
	}
	pad := (4 - len(data)%4) % 4
	total := uint32(12 + len(body) + len(data) + pad)
	var hdr [8]byte
	binary.LittleEndian.PutUint32(hdr[0:4], typ)
	binary.LittleEndian.PutUint32(hdr[4:8], total)
	var zeros [4]byte
	w := pw.w
	w.Write(hdr[:])
	w.Write(body)
	w.Write(data)
	w.Write(zeros[:pad])
	if _, err := w.Write(hdr[4:8]); err != nil {
		pw.err = fmt.Errorf("capture: writing pcapng: %w", err)
	}
	return pw.err
}

// appendOption appends one option, padded to 32 bits.
func appendOption(b []byte, code uint16, val []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	for i := len(val); i%4 != 0; i++ {
		b = append(b, 0)
	}
	return b
}

// appendTSOption appends a timestamp option in the interface's resolution.
func appendTSOption(b []byte, code uint16, t time.Time) []byte {
	ts := uint64(t.UnixNano())
	v := binary.LittleEndian.AppendUint32(nil, uint32(ts>>32))
	v = binary.LittleEndian.AppendUint32(v, uint32(ts))
	return appendOption(b, code, v)
}
