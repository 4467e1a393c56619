package diff

import (
	"strconv"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// session feeds a connection whose client sends msgs, and a close.
func session(sink wsparse.Sink, id int, msgs []string) {
	c := &wsparse.Conn{ID: id}
	sink.Handshake(c, &wsparse.Handshake{Method: "GET", URI: "/ws", Status: 101})
	for i, m := range msgs {
		sink.Message(c, &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Len: uint64(len(m)), Data: []byte(m), Index: i + 1})
	}
	f := &wsparse.Frame{Dir: wsparse.ClientToServer, HasCloseCode: true, CloseCode: 1000, Index: len(msgs) + 1}
	f.Opcode = wsparse.OpClose
	sink.Frame(c, f)
	sink.End(c, &wsparse.Summary{End: "close"})
}

func closeText(code uint16, reason string) string { return strconv.Itoa(int(code)) + " " + reason }

// TestRunDifferences: the engine returns the differences as values; a
// second reading compares the connections whose sketches differ, and a
// third keeps the bytes of the shown differences only.
func TestRunDifferences(t *testing.T) {
	sides := [2][][]string{
		{{"hello", "same"}},
		{{"hellO", "same", "extra"}, {"new conn"}},
	}
	reads := 0
	res, err := Run(Options{Shown: 1, CloseText: closeText, Twice: true}, func(side int, sink wsparse.Sink, quiet bool) error {
		reads++
		for i, msgs := range sides[side] {
			session(sink, i+1, msgs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if reads != 6 {
		t.Errorf("captures decoded %d times, want 6 (three times each)", reads)
	}
	var kinds []Kind
	for _, d := range res.Diffs {
		kinds = append(kinds, d.Kind)
	}
	want := []Kind{Bytes, Opcode, Count, OnlyInB}
	if len(kinds) != len(want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds %v, want %v", kinds, want)
		}
	}
	b := res.Diffs[0]
	if !b.A.Kept || string(b.A.Data) != "hello" || string(b.B.Data) != "hellO" || b.A.Index != 1 {
		t.Errorf("shown difference: %+v", b)
	}
	if o := res.Diffs[1]; o.A.Op != wsparse.OpClose || o.B.Op != wsparse.OpText || o.A.Kept {
		t.Errorf("not shown difference: %+v (its bytes are not kept)", o)
	}
	if c := res.Diffs[2]; c.Count != [2]int{3, 4} || c.B.Op != wsparse.OpClose || c.B.Close != "1000 " {
		t.Errorf("count difference: %+v", c)
	}
	if res.Conns != 1 || res.Compared != 3 {
		t.Errorf("conns %d, compared %d; want 1, 3", res.Conns, res.Compared)
	}
}
