package report

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TestTranscriptBinaryCut: the follow view of a binary message past
// --max-bytes: its header line, an xxd-style dump of the bytes shown,
// and how many more there are.
func TestTranscriptBinaryCut(t *testing.T) {
	var out bytes.Buffer
	tr := NewTranscript(&out, TranscriptOptions{MaxBytes: 18, Pretty: true})
	c := wsparse.NewConn(1, netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
	t0 := time.Unix(100, 0)
	tr.SetOrigin(t0)
	data := []byte("0123456789abcdef\x00\x01\x02\x03")
	tr.Put(&record.Record{Kind: record.Message, Conn: c, Message: &wsparse.Message{TS: t0.Add(1500 * time.Millisecond),
		Dir: wsparse.ServerToClient, Opcode: wsparse.OpBinary, Index: 1, Len: uint64(len(data)), Data: data, Frames: 2}})
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "[1.500000] conn 1 s2c binary #1, 20 B, 2 frames\n" +
		"00000000: 3031 3233 3435 3637 3839 6162 6364 6566  0123456789abcdef\n" +
		"00000010: 0001                                     ..\n" +
		"… 2 more bytes (--max-bytes 0 shows all)\n\n"
	if got := out.String(); got != want || !tr.Wrote() {
		t.Errorf("got (wrote %v)\n%q\nwant\n%q", tr.Wrote(), got, want)
	}
}
