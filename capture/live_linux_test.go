package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openLiveOrSkip opens a live capture, skipping the test without the
// privilege to (CI runs as root, so there it runs).
func openLiveOrSkip(t *testing.T, opts LiveOptions) LiveSource {
	t.Helper()
	src, err := OpenLive(opts)
	var perm *PermissionError
	if errors.As(err, &perm) {
		t.Skipf("needs root or CAP_NET_RAW: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// echoServer accepts connections on 127.0.0.1 and echoes what it reads.
func echoServer(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// talk sends each message and reads its echo, then closes.
func talk(t *testing.T, port int, msgs []string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1<<16)
	for _, m := range msgs {
		if _, err := io.WriteString(c, m); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf[:len(m)]); err != nil {
			t.Fatal(err)
		}
	}
}

// tcpPayload returns the TCP payload of an IPv4 packet at ip.
func tcpPayload(ip []byte) ([]byte, bool) {
	if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 6 {
		return nil, false
	}
	ihl := int(ip[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if total > len(ip) || ihl+20 > total {
		return nil, false
	}
	off := int(ip[ihl+12]>>4) * 4
	return ip[ihl+off : total], true
}

// collect reads packets until want payload bytes were seen or the time
// is up, and returns the payload bytes seen (in capture order) and the
// number of packets.
func collect(t *testing.T, src LiveSource, want int, deadline time.Duration) ([]byte, int) {
	t.Helper()
	var got []byte
	packets := 0
	end := time.Now().Add(deadline)
	for len(got) < want && time.Now().Before(end) {
		p, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if p.Idle() {
			continue
		}
		packets++
		if p.CaptureLength != len(p.Data) || p.Length < p.CaptureLength || p.Link != src.LinkType() {
			t.Fatalf("bad packet %+v", p)
		}
		var ip []byte
		switch p.Link {
		case LinkEthernet:
			if binary.BigEndian.Uint16(p.Data[12:14]) != etherTypeIPv4 {
				continue
			}
			ip = p.Data[14:]
		case LinkLinuxSLL2:
			if binary.BigEndian.Uint16(p.Data[0:2]) != etherTypeIPv4 {
				continue
			}
			ip = p.Data[20:]
		}
		if pl, ok := tcpPayload(ip); ok {
			got = append(got, pl...)
		}
	}
	return got, packets
}

func TestLiveLoopback(t *testing.T) {
	for _, iface := range []string{"lo", AnyInterface} {
		t.Run(iface, func(t *testing.T) {
			_, port := echoServer(t)
			_, other := echoServer(t)
			f, err := ParseFilter(fmt.Sprintf("tcp port %d", port))
			if err != nil {
				t.Fatal(err)
			}
			src := openLiveOrSkip(t, LiveOptions{Interface: iface, Filter: f, IdleInterval: 100 * time.Millisecond})
			wantLink := LinkEthernet
			if iface == AnyInterface {
				wantLink = LinkLinuxSLL2
			}
			if src.LinkType() != wantLink {
				t.Fatalf("link type %s, want %s", src.LinkType(), wantLink)
			}
			// Traffic on another port must be filtered out in the kernel.
			talk(t, other, []string{"NOISE-NOISE-NOISE"})
			msgs := []string{"hello", strings.Repeat("x", 3000), "bye"}
			talk(t, port, msgs)
			// Each message goes there and back; loopback's outgoing copies
			// are dropped, so every byte is seen exactly once.
			var want []byte
			for _, m := range msgs {
				want = append(want, m...)
				want = append(want, m...)
			}
			got, packets := collect(t, src, len(want), 5*time.Second)
			if !bytes.Equal(got, want) {
				t.Fatalf("payload seen: %d bytes %.60q..., want %d bytes", len(got), got, len(want))
			}
			// Nothing more: no duplicates, no noise. Then an idle tick.
			p, err := src.Next()
			for err == nil && !p.Idle() {
				if pl, _ := tcpPayload(p.Data[14:]); len(pl) > 0 && p.Link == LinkEthernet {
					t.Fatalf("extra payload %q", pl)
				}
				p, err = src.Next()
			}
			if err != nil || time.Since(p.Timestamp) > time.Second {
				t.Fatalf("idle tick: %v %v", p, err)
			}
			recv, drop := src.Stats()
			if recv < uint64(packets) || drop != 0 {
				t.Errorf("stats: received %d dropped %d, want >= %d and 0", recv, drop, packets)
			}
		})
	}
}

func TestLiveCloseWakesNext(t *testing.T) {
	src := openLiveOrSkip(t, LiveOptions{Interface: "lo", IdleInterval: time.Hour})
	done := make(chan error, 1)
	go func() {
		for {
			p, err := src.Next()
			if err != nil || p.Idle() {
				done <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	src.Close()
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("Next after Close: %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake Next")
	}
	src.Stats() // safe after Close
}

func TestLiveUnknownInterface(t *testing.T) {
	_, err := OpenLive(LiveOptions{Interface: "nosuch0"})
	var unk *UnknownInterfaceError
	if !errors.As(err, &unk) {
		t.Fatalf("err = %v, want UnknownInterfaceError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"nosuch0"`) || !strings.Contains(msg, "lo") || !strings.Contains(msg, "any") {
		t.Errorf("message %q does not list the valid interfaces", msg)
	}
}

func TestLivePermissionMessage(t *testing.T) {
	err := error(&PermissionError{Interface: "eth0", Err: errors.New("operation not permitted")})
	want := "live capture on eth0 needs root or CAP_NET_RAW (try: sudo setcap cap_net_raw+ep $(which wsdump))"
	if err.Error() != want {
		t.Errorf("got %q", err)
	}
}

func TestListInterfaces(t *testing.T) {
	ifs, err := ListInterfaces()
	if err != nil {
		t.Fatal(err)
	}
	var lo, any bool
	for _, it := range ifs {
		if it.Loopback && it.Up && len(it.Addrs) > 0 {
			lo = true
		}
		any = any || it.Name == AnyInterface
	}
	if !lo || !any {
		t.Errorf("no loopback with addresses, or no any: %+v", ifs)
	}
}

// TestLiveVLAN sends tagged frames over a veth pair: the kernel strips the
// tag before packet sockets see it (and before the filter runs), and
// Next puts it back, as libpcap does.
func TestLiveVLAN(t *testing.T) {
	ipCmd, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("needs the ip command to make a veth pair")
	}
	a, b := fmt.Sprintf("wsdv%d", os.Getpid()%10000), fmt.Sprintf("wsdw%d", os.Getpid()%10000)
	if out, err := exec.Command(ipCmd, "link", "add", a, "type", "veth", "peer", "name", b).CombinedOutput(); err != nil {
		t.Skipf("cannot make a veth pair (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command(ipCmd, "link", "del", a).Run() })
	for _, n := range []string{a, b} {
		if out, err := exec.Command(ipCmd, "link", "set", n, "up").CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	f, _ := ParseFilter("port 8080")
	src := openLiveOrSkip(t, LiveOptions{Interface: a, Filter: f, IdleInterval: 300 * time.Millisecond})
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ni, err := net.InterfaceByName(b)
	if err != nil {
		t.Fatal(err)
	}
	frames := [][]byte{
		pkt{src: "10.0.0.1:40000", dst: "10.0.0.2:8080", vlan: 0x8100}.frame(t),
		pkt{src: "10.0.0.1:40000", dst: "10.0.0.2:9999", vlan: 0x8100}.frame(t), // filtered out
		pkt{src: "[2001:db8::1]:40000", dst: "[2001:db8::2]:8080", vlan: 0x88a8}.frame(t),
		pkt{src: "10.0.0.1:40000", dst: "10.0.0.2:8080"}.frame(t),
	}
	for _, fr := range frames {
		if err := unix.Sendto(fd, fr, 0, &unix.SockaddrLinklayer{Ifindex: ni.Index, Halen: 6}); err != nil {
			t.Fatal(err)
		}
	}
	want := [][]byte{frames[0], frames[2], frames[3]}
	var got [][]byte
	for len(got) < len(want) {
		p, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if p.Idle() {
			break
		}
		if p.Length != len(p.Data) {
			t.Errorf("length %d, captured %d", p.Length, len(p.Data))
		}
		got = append(got, append([]byte(nil), p.Data...))
	}
	if len(got) != len(want) {
		t.Fatalf("%d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("packet %d:\n got % x\nwant % x", i, got[i], want[i])
		}
	}
}
