package capture

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"
)

func TestPcapngWriterRoundTrip(t *testing.T) {
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	var want []Packet
	for i := 0; i < 12; i++ {
		link := LinkEthernet
		if i%3 == 2 {
			link = LinkLinuxSLL2 // does not fit gopacket's uint8 link type
		}
		data := bytes.Repeat([]byte{byte(i)}, 14+i) // every padding length
		p := Packet{Timestamp: t0.Add(time.Duration(i) * 1001 * time.Nanosecond), Link: link, Data: data, CaptureLength: len(data), Length: len(data)}
		if i == 5 {
			p.Length = 9000 // cut by the snap length
		}
		want = append(want, p)
	}
	var buf bytes.Buffer
	w, err := NewPcapngWriter(&buf, PcapngWriterOptions{Interface: "any", Filter: "tcp and port 80"})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range want {
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
		if i == 6 {
			// Idle ticks are skipped; statistics blocks are skipped by readers.
			w.WritePacket(Packet{Timestamp: time.Now()})
			w.WriteStats(t0, p.Timestamp, 7, 1)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for i, wp := range want {
		p, err := src.Next()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !p.Timestamp.Equal(wp.Timestamp) || p.Link != wp.Link || p.Length != wp.Length ||
			p.CaptureLength != wp.CaptureLength || !bytes.Equal(p.Data, wp.Data) {
			t.Errorf("packet %d: got %+v, want %+v", i, p, wp)
		}
	}
	if _, err := src.Next(); err != io.EOF {
		t.Errorf("after the packets: %v, want io.EOF", err)
	}
}

// An independent reader agrees on an Ethernet-only file.
func TestPcapngWriterPcapgoReads(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewPcapngWriter(&buf, PcapngWriterOptions{Interface: "eth0"})
	ts := time.Unix(1700000000, 42)
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	w.WritePacket(Packet{Timestamp: ts, Link: LinkEthernet, Data: data, CaptureLength: len(data), Length: 1500})
	w.WriteStats(ts, ts, 1, 0)
	w.Close()
	r, err := pcapgo.NewNgReader(&buf, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	got, ci, err := r.ReadPacketData()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) || !ci.Timestamp.Equal(ts) || ci.Length != 1500 {
		t.Errorf("pcapgo read %q %+v", got, ci)
	}
	if intf, err := r.Interface(0); err != nil || intf.Name != "eth0" || intf.LinkType != 1 {
		t.Errorf("interface %+v %v", intf, err)
	}
}
