package wsparse

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// logSink records every event as a line of text, for comparisons.
type logSink struct {
	lines []string
	sum   Summary // the last summary
}

func (s *logSink) Handshake(c *Conn, h *Handshake) {
	s.lines = append(s.lines, fmt.Sprintf("H status=%d accept_valid=%v sub=%q ext=%q deflate=%v anomalies=%s",
		h.Status, h.AcceptValid, h.Subprotocol, h.Extensions, h.Deflate, h.Anomalies))
}

func (s *logSink) Frame(c *Conn, f *Frame) {
	line := fmt.Sprintf("F %s #%d fin=%v rsv=%d op=%s masked=%v key=%x len=%d payload=%s anomalies=%s",
		f.Dir, f.Index, f.Fin, f.RSV, f.Opcode, f.Masked, f.MaskKey, f.Length, short(f.Payload), f.Anomalies)
	if f.Opcode == OpClose {
		line += fmt.Sprintf(" close=%d/%v/%q", f.CloseCode, f.HasCloseCode, f.CloseReason)
	}
	s.lines = append(s.lines, line)
}

func (s *logSink) Message(c *Conn, m *Message) {
	s.lines = append(s.lines, fmt.Sprintf("M %s #%d op=%s frames=%d len=%d data=%s compressed=%v anomalies=%s",
		m.Dir, m.Index, m.Opcode, m.Frames, m.Len, short(m.Data), m.Compressed, m.Anomalies))
}

func (s *logSink) End(c *Conn, sum *Summary) {
	s.sum = *sum
	s.lines = append(s.lines, fmt.Sprintf("E end=%s initiator=%s c2s=%+v s2c=%+v close=%+v/%+v anomalies=%s",
		sum.End, sum.Initiator, sum.Stats[0], sum.Stats[1], sum.Close[0].Code, sum.Close[1].Code, sum.Anomalies))
}

func (s *logSink) String() string { return strings.Join(s.lines, "\n") }

var (
	testClient = netip.MustParseAddrPort("10.0.0.1:50000")
	testServer = netip.MustParseAddrPort("10.0.0.2:80")
	testTime   = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
)

const (
	testKey    = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 §1.3
	testAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

func upgradeRequest(extra string) string {
	return "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nOrigin: http://example.com\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n"
}

func upgradeResponse(extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + testAccept + "\r\n" + extra + "\r\n"
}

// frame builds one frame; key nil means unmasked. The payload is given in
// clear and masked here.
func frame(fin bool, rsv uint8, op Opcode, key []byte, payload string) []byte {
	h := Header{Fin: fin, RSV: rsv, Opcode: op, Length: uint64(len(payload))}
	if key != nil {
		h.Masked = true
		copy(h.MaskKey[:], key)
	}
	b := AppendHeader(nil, h)
	p := []byte(payload)
	if key != nil {
		Unmask(h.MaskKey, 0, p)
	}
	return append(b, p...)
}

var testMask = []byte{0x37, 0xfa, 0x21, 0x3d}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// run feeds a client stream and a server stream to a new Conn, each in the
// given chunk sizes (nil: in one piece), alternating sides as a real
// capture would: the client first, until the request is out.
func run(client, server []byte, cfg Config) *logSink {
	s := &logSink{}
	c := NewConn(1, testClient, testServer, cfg, s)
	c.Feed(0, client, testTime)
	c.Feed(1, server, testTime)
	c.End(testTime)
	return s
}

// short renders bytes as hex, or their hash when long, to keep logs small.
func short(b []byte) string {
	if len(b) <= 64 {
		return hex.EncodeToString(b)
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("sha256:%x", sum[:8])
}

// readBufs are readSome's read buffers: a new 128 KiB one for each call
// (three a case in TestDamagedHeadersMatchFlate's 4 000) was most of the
// CPU of the tests that inflate with it, clearing memory.
var readBufs = sync.Pool{New: func() any { return new([1 << 17]byte) }}
