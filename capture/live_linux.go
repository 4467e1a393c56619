package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Live capture uses an AF_PACKET socket of our own rather than pcapgo's
// EthernetHandle (gopacket v1.1.19), because EthernetHandle:
//   - blocks in recvmsg with no timeout, so Next could never return an idle
//     tick, and closing the socket does not wake a blocked reader;
//   - sizes its buffer to the MTU, cutting off the Ethernet header's last
//     bytes of full-size frames and most of a GRO/TSO super-packet;
//   - delivers loopback traffic twice (outgoing and incoming copies);
//   - has no cooked mode for "any".
// Here the socket is non-blocking and registered with Go's poller through
// os.File, so read deadlines give idle ticks and Close wakes Next.

const liveSupportsAny = true

// sll2HeaderLen is the LINKTYPE_LINUX_SLL2 header we put before packets of
// cooked (SOCK_DGRAM) sockets: https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
const sll2HeaderLen = 20

// vlanTagLen is the 802.1Q tag we put back when the kernel stripped it
// (VLAN offload) and reported it in PACKET_AUXDATA, as libpcap does.
const vlanTagLen = 4

var (
	cmsgHdrLen  = unix.CmsgLen(0)
	auxSpace    = unix.CmsgSpace(int(unsafe.Sizeof(unix.TpacketAuxdata{})))
	tsSpace     = unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))
	ethPAllNet  = htons(unix.ETH_P_ALL)
	errLiveDown = errors.New("interface went down")
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

type liveSource struct {
	name     string
	link     LinkType
	cooked   bool
	loIndex  int32 // packets leaving this interface are dropped: they come back in
	idle     time.Duration
	headroom int // bytes before the received packet: SLL2 header or VLAN tag

	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool

	// Receive state, reused by every read (the read callback is made once,
	// so reading allocates nothing).
	buf    []byte
	oob    []byte
	sa     unix.RawSockaddrLinklayer
	iov    unix.Iovec
	msg    unix.Msghdr
	n      int
	errno  syscall.Errno
	readFn func(fd uintptr) bool

	mu                sync.Mutex // guards the counters and reading them
	received, dropped uint64
	statsFinal        bool
}

// OpenLive opens a live capture on Linux through an AF_PACKET socket: raw
// (Ethernet headers) on Ethernet and loopback interfaces, cooked with a
// LINUX_SLL2 header on "any" and other interfaces. It needs root or
// CAP_NET_RAW.
func OpenLive(opts LiveOptions) (LiveSource, error) {
	if opts.SnapLen <= 0 || opts.SnapLen > MaxCaptureLength {
		opts.SnapLen = MaxCaptureLength
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = DefaultLiveBuffer
	}
	if opts.IdleInterval <= 0 {
		opts.IdleInterval = DefaultLiveIdle
	}
	name := opts.Interface
	s := &liveSource{name: name, idle: opts.IdleInterval}
	var ifindex int
	if name != AnyInterface {
		ni, err := net.InterfaceByName(name)
		if err != nil || name == "" {
			return nil, unknownInterface(name)
		}
		ifindex = ni.Index
	}
	if lo := loopbackIndex(); lo > 0 && (ifindex == 0 || ifindex == lo) {
		s.loIndex = int32(lo)
	}

	fd, err := s.open(name, ifindex)
	if err != nil {
		return nil, err
	}
	if err := s.setup(fd, opts, ifindex); err != nil {
		unix.Close(fd)
		return nil, err
	}
	s.f = os.NewFile(uintptr(fd), "packet socket on "+name)
	if s.rc, err = s.f.SyscallConn(); err != nil {
		s.f.Close()
		return nil, fmt.Errorf("capture: %s: %w", name, err)
	}
	s.buf = make([]byte, s.headroom+opts.SnapLen)
	s.oob = make([]byte, auxSpace+tsSpace)
	s.iov.Base = &s.buf[s.headroom]
	s.iov.SetLen(opts.SnapLen)
	s.msg.Name = (*byte)(unsafe.Pointer(&s.sa))
	s.msg.Namelen = uint32(unsafe.Sizeof(s.sa))
	s.msg.Iov = &s.iov
	s.msg.SetIovlen(1)
	s.msg.Control = &s.oob[0]
	s.readFn = s.read
	return s, nil
}

// open makes the socket, raw or cooked by the interface's hardware type.
// Its protocol is 0 until bind, so nothing is queued before the filter is
// attached.
func (s *liveSource) open(name string, ifindex int) (int, error) {
	kind := unix.SOCK_RAW
	if ifindex == 0 {
		kind = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(unix.AF_PACKET, kind|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return -1, &PermissionError{Interface: name, Err: err}
		}
		return -1, fmt.Errorf("capture: opening a packet socket on %s: %w", name, err)
	}
	if kind == unix.SOCK_RAW {
		ifr, err := unix.NewIfreq(name)
		if err == nil {
			err = unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr)
		}
		if err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("capture: %s: reading the hardware type: %w", name, err)
		}
		if hw := ifr.Uint16(); hw != unix.ARPHRD_ETHER && hw != unix.ARPHRD_LOOPBACK {
			// No Ethernet header to rely on (tun, ppp, wireguard...).
			unix.Close(fd)
			return s.open(name, 0)
		}
	}
	s.cooked = kind == unix.SOCK_DGRAM
	if s.cooked {
		s.link, s.headroom = LinkLinuxSLL2, sll2HeaderLen
	} else {
		s.link, s.headroom = LinkEthernet, vlanTagLen
	}
	return fd, nil
}

func (s *liveSource) setup(fd int, opts LiveOptions, ifindex int) error {
	fail := func(what string, err error) error {
		return fmt.Errorf("capture: %s: %s: %w", s.name, what, err)
	}
	// Auxdata gives the original length and any stripped VLAN tag.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fail("PACKET_AUXDATA", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("SO_TIMESTAMPNS", err)
	}
	// SO_RCVBUFFORCE passes rmem_max with CAP_NET_ADMIN; else take what
	// SO_RCVBUF allows.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, opts.BufferSize) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, opts.BufferSize)
	}
	prog, err := s.program(opts.Filter, ifindex)
	if err != nil {
		return err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fail("assembling the filter", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}); err != nil {
		return fail("attaching the filter", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: ethPAllNet, Ifindex: ifindex}); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return unknownInterface(s.name)
		}
		return fail("bind", err)
	}
	if opts.Promiscuous && ifindex != 0 {
		mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fail("promiscuous mode", err)
		}
	}
	// Counters start now.
	unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	return nil
}

// program is the user's filter behind a prefix that drops the outgoing
// copy of loopback traffic (the incoming copy is kept), as libpcap does in
// user space; in the kernel it also spares the socket buffer.
func (s *liveSource) program(f Filter, ifindex int) ([]bpf.Instruction, error) {
	link := LinkEthernet
	if s.cooked {
		link = LinkRaw // cooked sockets filter from the network header
	}
	user, err := CompileFilter(f, link)
	if err != nil {
		return nil, err
	}
	var prefix []bpf.Instruction
	switch {
	case s.loIndex == 0:
	case ifindex != 0: // lo itself
		prefix = []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipFalse: 1},
			bpf.RetConstant{Val: 0},
		}
	default: // any
		prefix = []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtInterfaceIndex},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(s.loIndex), SkipFalse: 3},
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipFalse: 1},
			bpf.RetConstant{Val: 0},
		}
	}
	return append(prefix, user...), nil
}

func loopbackIndex() int {
	ifs, err := net.Interfaces()
	if err != nil {
		return 0
	}
	for _, ni := range ifs {
		if ni.Flags&net.FlagLoopback != 0 {
			return ni.Index
		}
	}
	return 0
}

func (s *liveSource) LinkType() LinkType { return s.link }

// read is the poller callback: one recvmsg, done unless it would block.
func (s *liveSource) read(fd uintptr) bool {
	s.msg.SetControllen(len(s.oob))
	r, _, e := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&s.msg)), unix.MSG_TRUNC)
	s.n, s.errno = int(r), e
	return e != unix.EAGAIN
}

// Secrets: a live capture carries none (give a key log).
func (s *liveSource) Secrets() []Secrets { return nil }

// Input is "": one input.
func (s *liveSource) Input() string { return "" }

func (s *liveSource) Next() (Packet, error) {
	for {
		if s.closed.Load() {
			return Packet{}, io.EOF
		}
		s.f.SetReadDeadline(time.Now().Add(s.idle))
		err := s.rc.Read(s.readFn)
		switch {
		case s.closed.Load():
			return Packet{}, io.EOF
		case errors.Is(err, os.ErrDeadlineExceeded):
			return Packet{Timestamp: time.Now()}, nil
		case err != nil:
			return Packet{}, fmt.Errorf("capture: %s: %w", s.name, err)
		case s.errno == unix.EINTR:
			continue
		case s.errno == unix.ENETDOWN:
			return Packet{}, fmt.Errorf("capture: %s: %w", s.name, errLiveDown)
		case s.errno != 0:
			return Packet{}, fmt.Errorf("capture: %s: reading a packet: %w", s.name, s.errno)
		}
		if s.sa.Pkttype == unix.PACKET_OUTGOING && s.sa.Ifindex == s.loIndex {
			continue // the filter's prefix should have dropped it
		}
		return s.packet(), nil
	}
}

// packet turns the message just received into a Packet.
func (s *liveSource) packet() Packet {
	p := Packet{Link: s.link}
	capLen := min(s.n, len(s.buf)-s.headroom) // with MSG_TRUNC, n is the whole length
	p.Length = s.n
	var aux *unix.TpacketAuxdata
	oob := s.oob[:s.msg.Controllen]
	for len(oob) >= cmsgHdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		if int(h.Len) < cmsgHdrLen || int(h.Len) > len(oob) {
			break
		}
		data := oob[cmsgHdrLen:h.Len]
		switch {
		case h.Level == unix.SOL_PACKET && h.Type == unix.PACKET_AUXDATA && len(data) >= int(unsafe.Sizeof(*aux)):
			aux = (*unix.TpacketAuxdata)(unsafe.Pointer(&data[0]))
			p.Length = int(aux.Len)
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SO_TIMESTAMPNS && len(data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
			p.Timestamp = time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
		oob = oob[min(unix.CmsgSpace(int(h.Len)-cmsgHdrLen), len(oob)):]
	}
	if p.Timestamp.IsZero() {
		p.Timestamp = time.Now()
	}
	start, end := s.headroom, s.headroom+capLen
	switch {
	case s.cooked:
		// LINUX_SLL2: protocol, reserved, ifindex, ARPHRD, packet type,
		// address length, address (8 bytes), all big-endian.
		h := s.buf[:sll2HeaderLen]
		binary.NativeEndian.PutUint16(h[0:2], s.sa.Protocol) // already network order
		binary.BigEndian.PutUint16(h[2:4], 0)
		binary.BigEndian.PutUint32(h[4:8], uint32(s.sa.Ifindex))
		binary.BigEndian.PutUint16(h[8:10], s.sa.Hatype)
		h[10] = s.sa.Pkttype
		h[11] = s.sa.Halen
		copy(h[12:20], s.sa.Addr[:])
		start = 0
		p.Length += sll2HeaderLen
	case aux != nil && aux.Status&unix.TP_STATUS_VLAN_VALID != 0 && capLen >= 12:
		// Put the tag the NIC stripped back after the MAC addresses.
		tpid := uint16(etherTypeVLAN)
		if aux.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = aux.Vlan_tpid
		}
		start -= vlanTagLen
		copy(s.buf[start:start+12], s.buf[s.headroom:s.headroom+12])
		binary.BigEndian.PutUint16(s.buf[start+12:], tpid)
		binary.BigEndian.PutUint16(s.buf[start+14:], aux.Vlan_tci)
		p.Length += vlanTagLen
	}
	p.Data = s.buf[start:end]
	p.CaptureLength = len(p.Data)
	return p
}

func (s *liveSource) Stats() (received, dropped uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateStats()
	return s.received, s.dropped
}

// updateStats adds the kernel's counters, which reset on every read.
func (s *liveSource) updateStats() {
	if s.statsFinal {
		return
	}
	s.rc.Control(func(fd uintptr) {
		st, err := unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
		if err == nil {
			// tp_packets counts the drops too.
			s.received += uint64(st.Packets)
			s.dropped += uint64(st.Drops)
		}
	})
}

// Close stops the capture; a Next blocked in another goroutine returns
// io.EOF. The counters are read one last time first.
func (s *liveSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	s.updateStats()
	s.statsFinal = true
	return s.f.Close()
}
