package wsparse

import (
	"net/netip"
	"testing"
	"unsafe"
)

// TestConnInput: a connection keeps the number of its input in 24 bits of
// its padding (SetInput), saturated at MaxInput, and neither a Conn nor a
// Conn with its decoder grows for it (88 and 416 bytes).
func TestConnInput(t *testing.T) {
	c := NewView(1, [2]netip.AddrPort{})
	for _, tc := range []struct{ set, want int }{{0, 0}, {1, 1}, {255, 255}, {256, 256}, {70000, 70000},
		{MaxInput, MaxInput}, {MaxInput + 1, MaxInput}, {-1, 0}} {
		c.SetInput(tc.set)
		if got := c.Input(); got != tc.want {
			t.Errorf("SetInput(%d): Input %d, want %d", tc.set, got, tc.want)
		}
		if c.ClientSide() != -1 {
			t.Errorf("SetInput(%d) changed the client side: %d", tc.set, c.ClientSide())
		}
	}
	c.SetClientSide(1)
	c.SetInput(MaxInput)
	if c.ClientSide() != 1 || c.Input() != MaxInput {
		t.Errorf("client side %d, input %d", c.ClientSide(), c.Input())
	}
	if n := unsafe.Sizeof(Conn{}); n != 88 {
		t.Errorf("Conn is %d bytes, was 88", n)
	}
	if n := unsafe.Sizeof(connAlloc{}); n != 416 {
		t.Errorf("a Conn and its decoder are %d bytes, were 416", n)
	}
}
