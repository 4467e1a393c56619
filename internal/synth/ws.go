package synth

import (
	"bytes"
	"compress/flate"
	"fmt"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/wsparse"
)

// Upgrade writes a WebSocket opening handshake (request and 101), after
// Open.
func (c *Conv) Upgrade() *Conv { return c.UpgradeURI("/x") }

// UpgradeURI is Upgrade with another request URI.
func (c *Conv) UpgradeURI(uri string) *Conv {
	c.Send(true, []byte("GET "+uri+" HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	c.Send(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
	return c
}

// Frame writes one unfragmented WebSocket frame, masked from the client.
func (c *Conv) Frame(fromClient bool, op wsparse.Opcode, payload []byte) *Conv {
	h := wsparse.Header{Fin: true, Opcode: op, Length: uint64(len(payload))}
	p := append([]byte(nil), payload...)
	if fromClient {
		h.Masked, h.MaskKey = true, [4]byte{1, 2, 3, 4}
		wsparse.Unmask(h.MaskKey, 0, p) // masking is the same XOR
	}
	return c.Send(fromClient, append(wsparse.AppendHeader(nil, h), p...))
}

// WSDeflated is one unfragmented text frame compressed as
// permessage-deflate sends it (RSV1, its 00 00 ff ff tail taken off; no
// context kept from earlier messages), masked with key from the client.
func WSDeflated(fromClient bool, key [4]byte, payload string) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write([]byte(payload))
	w.Flush()
	p := bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
	h := wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpText, Length: uint64(len(p))}
	if fromClient {
		h.Masked, h.MaskKey = true, key
		wsparse.Unmask(h.MaskKey, 0, p)
	}
	return append(wsparse.AppendHeader(nil, h), p...)
}

// ReusedTuple writes three WebSocket conversations between the same
// client and server ports, one after the other, each with new initial
// sequence numbers: the first ends with a Close each way, FIN, FIN and the
// last ACK; the second with a RST from the client; the third with FINs.
// Each carries n text messages each way ("cK sI", "sK sI" for conversation
// K). tshark sees three TCP streams.
func ReusedTuple(client, server string, n int) []Packet {
	var pkts []Packet
	for k := 1; k <= 3; k++ {
		isn := uint32(k) * 0x10000000
		c := New(client, server).ISN(isn, isn+0x1234567).Wait(time.Duration(k) * time.Second).Open().Upgrade()
		for i := 0; i < n; i++ {
			c.Frame(true, wsparse.OpText, []byte(fmt.Sprintf("c%d s%d", k, i)))
			c.Frame(false, wsparse.OpText, []byte(fmt.Sprintf("s%d s%d", k, i)))
		}
		switch k {
		case 2:
			c.Rst(true)
		default:
			c.Frame(true, wsparse.OpClose, []byte{3, 0xe8})
			c.Frame(false, wsparse.OpClose, []byte{3, 0xe8})
			c.Fin(false).Fin(true)
			c.segment(false, &layers.TCP{ACK: true}, nil)
		}
		pkts = append(pkts, c.Packets...)
	}
	return pkts
}
