package reassembly

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TestWorkerRebasesBorrowedBodies: a JSON App decoded with BorrowBodies
// has the message's data as its Body, which the decoder reuses once the
// record's Put returns. The worker keeps such an App in its chunk on the
// chunk's copy of the data (and copies it when the data is not kept),
// so what the merger hands on is what was sent.
func TestWorkerRebasesBorrowedBodies(t *testing.T) {
	const text = ` {"type":"chat","seq":1} `
	for _, unused := range []bool{false, true} {
		s := appproto.New(nil, appproto.JSON)
		s.LazyFields()
		s.BorrowBodies()
		data := []byte(text)
		m := &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Data: data, Len: uint64(len(data)), Frames: 1}
		apps := s.Message(m)
		if len(apps) != 1 || !apps[0].Borrowed() {
			t.Fatalf("the App does not borrow its body: %+v", apps)
		}
		w := &worker{p: &Parallel{}, out: &outBatch{}, dataUnused: unused}
		w.Put(&record.Record{Kind: record.Message, Conn: wsparse.NewView(1, [2]netip.AddrPort{}), Message: m, Apps: apps, Decoded: true})
		copy(data, bytes.Repeat([]byte("!"), len(data))) // the decoder reuses its buffer
		got := w.out.apps[0][0]
		if got.Borrowed() || string(got.Body) != `{"type":"chat","seq":1}` || got.FieldAt(1).Value != "1" {
			t.Errorf("data unused %v: the chunk holds body %q, borrowed %v", unused, got.Body, got.Borrowed())
		}
		if !unused && &got.Body[0] != &w.out.data[1] {
			t.Errorf("the body was copied again, not rebased onto the chunk's data %q", w.out.data)
		}
	}
}
