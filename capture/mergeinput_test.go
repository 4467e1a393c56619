package capture

import (
	"io"
	"testing"
)

// TestMergePacketInput: each packet of a merge carries the number of the
// source it came from (Packet.Input, the sources' order), whatever the
// interleaving; one source's packets carry 0.
func TestMergePacketInput(t *testing.T) {
	srcs := []Source{&fakeSource{name: "a", ts: []int{1, 4, 5}}, &fakeSource{name: "b", ts: []int{2, 3, 6}},
		&fakeSource{name: "c", ts: []int{3}}}
	m := Merge(srcs, []string{"a", "b", "c"}, nil)
	var got string
	for {
		p, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := int(p.Data[0] - 'a'); p.Input != want {
			t.Errorf("packet %s: Input %d, want %d", p.Data, p.Input, want)
		}
		got += string(p.Data) + " "
	}
	if want := "a0 b0 b1 c0 a1 a2 b2 "; got != want {
		t.Errorf("merged %q, want %q", got, want)
	}
	one := &fakeSource{name: "a", ts: []int{1, 2}}
	for p, err := one.Next(); err == nil; p, err = one.Next() {
		if p.Input != 0 {
			t.Errorf("one source: Input %d", p.Input)
		}
	}
}
