// Package synth writes synthetic TCP captures for tests: edge cases real
// clients never produce, built with gopacket's SerializeLayers and written
// with pcapgo.
package synth

import (
	"io"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Packet is one serialized Ethernet frame and its time.
type Packet struct {
	TS   time.Time
	Data []byte
}

// Conv is one TCP connection between a client and a server.
type Conv struct {
	Client, Server netip.AddrPort
	Packets        []Packet
	Step           time.Duration // time between packets (default 1 ms)

	t        time.Time
	seq      [2]uint32 // next sequence number: 0 client, 1 server
	MSS      int       // Send splits payloads into segments of at most MSS bytes (default 1460)
	DropNext int       // drop (do not write) the next N data segments, keeping their sequence space
	// Unacked: segments acknowledge all the peer sent but its last
	// Unacked bytes, as a receiver waiting for a hole the network made
	// (duplicate ACKs). 0: all (a hole only the capture has).
	Unacked int
}

// Start is the time every connection starts at (New).
var Start = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// New returns a connection starting at a fixed time (Start).
func New(client, server string) *Conv {
	return &Conv{
		Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server),
		t:   Start,
		seq: [2]uint32{1000, 5000}, MSS: 1460, Step: time.Millisecond,
	}
}

// ISN sets the initial sequence numbers of the client and the server (a
// new connection on a reused 4-tuple takes new ones); call it before Open.
func (c *Conv) ISN(client, server uint32) *Conv {
	c.seq = [2]uint32{client, server}
	return c
}

// ISNBeforeWrap sets the initial sequence numbers (as ISN does) so that
// each side's first bytes after Open and Upgrade lie n bytes before the
// wrap of the sequence space at 2^32.
func (c *Conv) ISNBeforeWrap(n uint32) *Conv {
	req, resp := uint32(len(UpgradeRequest)+2), uint32(len(UpgradeResponse)+2) // Upgrade's, with the blank line
	return c.ISN(-req-1-n, -resp-1-n)
}

// Open writes the three-way handshake.
func (c *Conv) Open() *Conv {
	c.segment(true, &layers.TCP{SYN: true}, nil)
	c.seq[0]++
	c.segment(false, &layers.TCP{SYN: true, ACK: true}, nil)
	c.seq[1]++
	c.segment(true, &layers.TCP{ACK: true}, nil)
	return c
}

// Syn writes the client's SYN alone (again for a retransmission): with
// Rst(false) after it, a connect the server refused; alone, one it never
// answered.
func (c *Conv) Syn() *Conv {
	c.segment(true, &layers.TCP{SYN: true}, nil)
	return c
}

// Send writes data from one side in segments of at most MSS bytes.
func (c *Conv) Send(fromClient bool, data []byte) *Conv {
	for len(data) > 0 {
		n := min(len(data), c.MSS)
		c.Segment(fromClient, data[:n])
		data = data[n:]
	}
	return c
}

// Skip moves one side's next sequence number n bytes on, writing nothing:
// bytes the capture missed (a gap of any size, past 4 GiB too).
func (c *Conv) Skip(fromClient bool, n uint32) *Conv {
	c.seq[side(fromClient)] += n
	return c
}

// Segment writes data as exactly one segment (which may be dropped).
func (c *Conv) Segment(fromClient bool, data []byte) *Conv {
	if c.DropNext > 0 {
		c.DropNext--
		c.seq[side(fromClient)] += uint32(len(data))
		c.t = c.t.Add(c.Step)
		return c
	}
	c.segment(fromClient, &layers.TCP{ACK: true, PSH: true}, data)
	c.seq[side(fromClient)] += uint32(len(data))
	return c
}

// Retransmit writes a segment at an earlier sequence offset (back bytes
// before the next sequence number), as a retransmission or overlap.
func (c *Conv) Retransmit(fromClient bool, back int, data []byte) *Conv {
	s := side(fromClient)
	saved := c.seq[s]
	c.seq[s] -= uint32(back)
	c.segment(fromClient, &layers.TCP{ACK: true, PSH: true}, data)
	c.seq[s] = saved
	return c
}

// Flagged writes one segment with tcp's flags (and urgent pointer; its
// ports, sequence and acknowledgment numbers are filled in) carrying data,
// back bytes before the side's next sequence number, and moves that
// number on to the segment's end if it lies past it (a SYN and a FIN
// count one): data in a SYN, a SYN-ACK of a simultaneous open (back 1),
// a keep-alive probe, a FIN or a RST with data.
func (c *Conv) Flagged(fromClient bool, back int, tcp *layers.TCP, data []byte) *Conv {
	s := side(fromClient)
	seq := c.seq[s] - uint32(back)
	c.seq[s] = seq
	c.segment(fromClient, tcp, data)
	end := seq + uint32(len(data))
	if tcp.SYN {
		end++
	}
	if tcp.FIN {
		end++
	}
	c.seq[s] = seq + uint32(back)
	if int32(end-c.seq[s]) > 0 {
		c.seq[s] = end
	}
	return c
}

// Fin closes one side.
func (c *Conv) Fin(fromClient bool) *Conv {
	c.segment(fromClient, &layers.TCP{FIN: true, ACK: true}, nil)
	c.seq[side(fromClient)]++
	return c
}

// Rst resets the connection from one side.
func (c *Conv) Rst(fromClient bool) *Conv {
	c.segment(fromClient, &layers.TCP{RST: true, ACK: true}, nil)
	return c
}

// At sets the clock to d after Start, the time every connection starts at.
func (c *Conv) At(d time.Duration) *Conv {
	c.t = Start.Add(d)
	return c
}

// Wait advances the clock.
func (c *Conv) Wait(d time.Duration) *Conv {
	c.t = c.t.Add(d)
	return c
}

func side(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

func (c *Conv) segment(fromClient bool, tcp *layers.TCP, payload []byte) {
	src, dst := c.Client, c.Server
	if !fromClient {
		src, dst = dst, src
	}
	s := side(fromClient)
	tcp.SrcPort, tcp.DstPort = layers.TCPPort(src.Port()), layers.TCPPort(dst.Port())
	tcp.Seq = c.seq[s]
	if tcp.ACK {
		tcp.Ack = c.seq[1-s] - uint32(c.Unacked)
	}
	tcp.Window = 65535
	eth := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}}
	var ip gopacket.SerializableLayer
	if src.Addr().Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		panic(err) // only on programming errors in a test
	}
	c.Packets = append(c.Packets, Packet{TS: c.t, Data: append([]byte(nil), buf.Bytes()...)})
	c.t = c.t.Add(c.Step)
}

// WritePcap writes packets (from one or more connections, in the order
// given) as a classic Ethernet pcap, cutting each to snaplen bytes when
// snaplen > 0.
func WritePcap(w io.Writer, snaplen int, packets ...Packet) error {
	return WritePcapLink(w, layers.LinkTypeEthernet, snaplen, packets...)
}

// A minimal WebSocket upgrade (RFC 6455 §1.3's key and accept), without
// the blank line that ends the head, so extensions can be added.
const (
	UpgradeRequest  = "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	UpgradeResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	DeflateOffer    = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
)
