package reassembly

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TestWorkerRebasesBorrowedBodies: a JSON App decoded with BorrowBodies
// has the message's data as its Body, which the decoder reuses once the
// record's Put returns, and its object's members in a Scratch that the
// next message reuses. The worker keeps such an App in its chunk on the
// chunk's copy of the data (and copies it when the data is not kept),
// with its own copy of the members, so what the merger hands on is what
// was sent.
func TestWorkerRebasesBorrowedBodies(t *testing.T) {
	const text = ` {"type":"chat","seq":1} `
	for _, unused := range []bool{false, true} {
		s := appproto.New(nil, appproto.JSON)
		s.LazyFields()
		s.BorrowBodies()
		data := []byte(text)
		m := &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Data: data, Len: uint64(len(data)), Frames: 1}
		var scratch appproto.Scratch
		apps := s.MessageIn(&scratch, m)
		if len(apps) != 1 || !apps[0].Borrowed() {
			t.Fatalf("the App does not borrow its body: %+v", apps)
		}
		w := &worker{p: &Parallel{}, out: &outBatch{}, dataUnused: unused}
		w.Put(&record.Record{Kind: record.Message, Conn: wsparse.NewView(1, [2]netip.AddrPort{}), Message: m, Apps: apps, Decoded: true})
		copy(data, bytes.Repeat([]byte("!"), len(data))) // the decoder reuses its buffer
		next := []byte(`{"a":{"b":2},"c":[3,4,5,6,7,8,9,10]}`)
		s.MessageIn(&scratch, &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Data: next, Len: uint64(len(next)), Frames: 1})
		got := w.out.apps[0][0]
		if got.Borrowed() || string(got.Body) != `{"type":"chat","seq":1}` || fmt.Sprint(got.AllFields()) != `[{type "chat"} {seq 1}]` {
			t.Errorf("data unused %v: the chunk holds body %q, fields %v, borrowed %v", unused, got.Body, got.AllFields(), got.Borrowed())
		}
		if !unused && &got.Body[0] != &w.out.data[1] {
			t.Errorf("the body was copied again, not rebased onto the chunk's data %q", w.out.data)
		}
	}
}
