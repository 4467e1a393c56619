package synth

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// ReadPcap reads an Ethernet pcap file's packets.
func ReadPcap(path string) ([]Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, err
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		return nil, errors.New(path + ": not an Ethernet capture")
	}
	var out []Packet
	for {
		d, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Packet{TS: ci.Timestamp, Data: d})
	}
}

// Replicate makes n copies of one IPv4 TCP connection (the packets of a
// capture holding only it) that run at the same time: copy i has client
// 10.0.i/250.i%250+1 and port base+i, the server keeps its address, and the
// copies' packets are interleaved round-robin, a microsecond apart from
// start. The client is the sender of the first packet. Sequence numbers
// and payloads are kept: a TLS connection's copies decrypt with its keys.
func Replicate(pkts []Packet, n int, base uint16, start time.Time) []Packet {
	var client netip.AddrPort
	copies := make([][]Packet, n)
	for _, p := range pkts {
		pk := gopacket.NewPacket(p.Data, layers.LayerTypeEthernet, gopacket.Default)
		eth, _ := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		ip, _ := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if eth == nil || ip == nil || tcp == nil {
			continue
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP)
		if !client.IsValid() {
			client = netip.AddrPortFrom(src, uint16(tcp.SrcPort))
		}
		fromClient := src == client.Addr() && uint16(tcp.SrcPort) == client.Port()
		for i := range copies {
			addr := []byte{10, 0, byte(i / 250), byte(i%250 + 1)}
			ip4, tcp4 := *ip, *tcp
			if fromClient {
				ip4.SrcIP, tcp4.SrcPort = addr, layers.TCPPort(base+uint16(i))
			} else {
				ip4.DstIP, tcp4.DstPort = addr, layers.TCPPort(base+uint16(i))
			}
			tcp4.SetNetworkLayerForChecksum(&ip4)
			buf := gopacket.NewSerializeBuffer()
			opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
			if err := gopacket.SerializeLayers(buf, opts, eth, &ip4, &tcp4, gopacket.Payload(tcp.Payload)); err != nil {
				panic(err) // only on programming errors in a test
			}
			copies[i] = append(copies[i], Packet{Data: append([]byte(nil), buf.Bytes()...)})
		}
	}
	var out []Packet
	ts := start
	for k := 0; ; k++ {
		more := false
		for _, c := range copies {
			if k < len(c) {
				more = true
				c[k].TS = ts
				ts = ts.Add(time.Microsecond)
				out = append(out, c[k])
			}
		}
		if !more {
			return out
		}
	}
}
