package capture

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// LiveOptions configures OpenLive.
type LiveOptions struct {
	// Interface is an interface name, or "any" for all interfaces.
	Interface string
	// Filter is compiled to BPF and run by the kernel; the zero Filter
	// keeps every packet.
	Filter Filter
	// SnapLen is the most bytes kept of a packet (default and maximum
	// MaxCaptureLength).
	SnapLen int
	// Promiscuous puts the interface in promiscuous mode while capturing
	// (not with "any").
	Promiscuous bool
	// BufferSize is the socket receive buffer in bytes (default 8 MiB):
	// what absorbs bursts before the kernel starts dropping.
	BufferSize int
	// IdleInterval is how long Next waits for a packet before returning an
	// idle tick (default 500 ms).
	IdleInterval time.Duration
}

// Defaults of LiveOptions.
const (
	DefaultLiveBuffer = 8 << 20
	DefaultLiveIdle   = 500 * time.Millisecond
)

// AnyInterface is the pseudo-interface that captures on all interfaces.
const AnyInterface = "any"

// LiveSource is a live capture. Its Next blocks until a packet arrives, an
// idle tick is due, or Close is called (from any goroutine):
//
//   - a packet comes with Data, Link and the kernel's receive time;
//   - an idle tick is a Packet with no Data (see Packet.Idle) whose
//     Timestamp is the current time, returned when no packet arrived for
//     LiveOptions.IdleInterval, so the caller can flush by time;
//   - after Close, Next returns io.EOF.
//
// Packets kept in Data are valid until the next call to Next.
type LiveSource interface {
	Source
	// LinkType is the link type of every packet: ETHERNET on Ethernet and
	// loopback interfaces, LINUX_SLL2 on "any" and other interfaces.
	LinkType() LinkType
	// Stats reports what the kernel counted since the capture opened:
	// packets that passed the filter (tcpdump's "received by filter") and,
	// of those, packets dropped because the socket buffer was full
	// ("dropped by kernel"). It may be called at any time, also after
	// Close, from any goroutine.
	Stats() (received, dropped uint64)
}

// ErrLiveUnsupported is returned by OpenLive where this build cannot
// capture.
var ErrLiveUnsupported = errors.New("live capture is supported on Linux only in this build")

// Idle reports whether p is a live capture's idle tick rather than a
// packet.
func (p Packet) Idle() bool { return p.Data == nil && p.Length == 0 }

// PermissionError is returned by OpenLive without the privilege to open a
// packet socket. Its message is one line saying how to fix it.
type PermissionError struct {
	Interface string
	Err       error // the system error (EPERM or EACCES)
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("live capture on %s needs root or CAP_NET_RAW (try: sudo setcap cap_net_raw+ep $(which wsdump))", e.Interface)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// UnknownInterfaceError is returned by OpenLive for a name that is not an
// interface; its message lists the valid ones.
type UnknownInterfaceError struct {
	Name  string
	Valid []string
}

func (e *UnknownInterfaceError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("no interface given; valid interfaces: %s", strings.Join(e.Valid, ", "))
	}
	return fmt.Sprintf("no interface named %q; valid interfaces: %s", e.Name, strings.Join(e.Valid, ", "))
}

// Interface describes one network interface, for `wsdump interfaces`.
type Interface struct {
	Name     string
	Index    int // 0 for "any"
	Up       bool
	Running  bool
	Loopback bool
	Addrs    []netip.Prefix
	// Description is set for pseudo-interfaces ("any").
	Description string
}

// ListInterfaces lists the system's interfaces in index order, then "any"
// where live capture supports it.
func ListInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("capture: listing interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifs)+1)
	for _, ni := range ifs {
		it := Interface{
			Name:     ni.Name,
			Index:    ni.Index,
			Up:       ni.Flags&net.FlagUp != 0,
			Running:  ni.Flags&net.FlagRunning != 0,
			Loopback: ni.Flags&net.FlagLoopback != 0,
		}
		addrs, err := ni.Addrs()
		if err == nil {
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok {
					ip, _ := netip.AddrFromSlice(ipn.IP)
					ones, _ := ipn.Mask.Size()
					it.Addrs = append(it.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
				}
			}
		}
		out = append(out, it)
	}
	if liveSupportsAny {
		out = append(out, Interface{Name: AnyInterface, Up: true, Running: true, Description: "all interfaces (LINUX_SLL2)"})
	}
	return out, nil
}

// unknownInterface builds the error for a bad name.
func unknownInterface(name string) error {
	e := &UnknownInterfaceError{Name: name}
	if ifs, err := ListInterfaces(); err == nil {
		for _, it := range ifs {
			e.Valid = append(e.Valid, it.Name)
		}
	}
	return e
}
