package reassembly

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

const (
	flagSYN = 0x02
	flagACK = 0x10
	flagPSH = 0x08
)

type countSink struct {
	nopSink
	frames int
	ends   int
}

func (s *countSink) Frame(*wsparse.Conn, *wsparse.Frame)     { s.frames++ }
func (s *countSink) End(*wsparse.Conn, *wsparse.Summary)     { s.ends++ }
func (s *countSink) Message(*wsparse.Conn, *wsparse.Message) {}

// TestMaxConnections: a SYN flood keeps the table under MaxConnections,
// evicting the least recently active connections and counting them, while
// an active WebSocket connection amid the flood keeps being decoded.
func TestMaxConnections(t *testing.T) {
	sink := &countSink{}
	a := New(record.Adapt(sink), Options{MaxConnections: 50})
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	client, server := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	cseq, sseq := uint32(100), uint32(900)
	send := func(fromClient bool, flags byte, p []byte) {
		if fromClient {
			a.Packet(101, synth.RawTCP4(client, server, 40000, 80, cseq, sseq, flags, p), ts, 40+len(p))
			cseq += uint32(len(p))
		} else {
			a.Packet(101, synth.RawTCP4(server, client, 80, 40000, sseq, cseq, flags, p), ts, 40+len(p))
			sseq += uint32(len(p))
		}
		ts = ts.Add(time.Microsecond)
	}
	send(true, flagPSH|flagACK, []byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	send(false, flagPSH|flagACK, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"))
	for i := 0; i < 5000; i++ {
		src := [4]byte{192, 168, byte(i >> 8), byte(i)}
		a.Packet(101, synth.RawTCP4(src, server, uint16(1024+i), 80, 1, 0, flagSYN, nil), ts, 40)
		ts = ts.Add(time.Microsecond)
		if i%10 == 0 {
			send(false, flagPSH|flagACK, []byte{0x81, 0x01, 'x'})
		}
		if a.live.len() > 50 {
			t.Fatalf("%d connections held", a.live.len())
		}
	}
	a.Finish()
	st := a.Stats()
	if st.Evicted < 5000-50 || st.Evicted > 5000 || st.Connections != 5001 {
		t.Errorf("stats %+v", st)
	}
	if sink.frames != 500 || sink.ends != 1 {
		t.Errorf("%d frames, %d ends: the active connection was evicted", sink.frames, sink.ends)
	}
	if len(a.closed) > 100 {
		t.Errorf("%d closed connections remembered", len(a.closed))
	}
}

// TestMaxConnectionsDefault: 0 holds 100 000 connections (a flood past
// it is row syns-1000000 of bench/memory.sh).
func TestMaxConnectionsDefault(t *testing.T) {
	if got := New(record.Adapt(&countSink{}), Options{}).opts.MaxConnections; got != 100000 {
		t.Errorf("MaxConnections %d, want 100000", got)
	}
}

// TestLongSegmentOutOfOrder: a segment longer than one of gopacket's pages
// that arrives after a hole and is flushed later used to panic (gopacket
// has no capture info for its second page).
func TestLongSegmentOutOfOrder(t *testing.T) {
	sink := &countSink{}
	a := New(record.Adapt(sink), Options{})
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c, s := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	a.Packet(101, synth.RawTCP4(c, s, 40000, 80, 100, 900, flagPSH|flagACK, req), ts, 40+len(req))
	big := make([]byte, 5000)
	// Bytes 100 to 110 of the client's stream are lost.
	a.Packet(101, synth.RawTCP4(c, s, 40000, 80, 100+uint32(len(req))+10, 900, flagPSH|flagACK, big), ts.Add(time.Millisecond), 5040)
	a.Finish()
}
