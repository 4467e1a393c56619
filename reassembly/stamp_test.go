package reassembly

import (
	"testing"
	"time"
	"unsafe"

	"github.com/wsdump/wsdump/record"
)

// TestStreamSize: an open connection's stream is 160 bytes, its first
// recent segments in place: the times packed (stamp.go), the IPv4
// addresses in 12 bytes, the TLS and HTTP/2 layers, the Router and IPv6
// addresses in streamRare. It was 208 bytes and a ring of 48 bytes of its
// own (TestRingInPlace). A WebSocket connection's streamRare, made for
// its Router, goes once the Router has decided (HTTP/1).
func TestStreamSize(t *testing.T) {
	size := unsafe.Sizeof(stream{})
	t.Logf("a stream is %d bytes", size)
	if size > 160 {
		t.Errorf("a stream is %d bytes, want 160 or fewer", size)
	}
	a := New(record.Adapt(&countSink{}), Options{})
	openConns(a, 100)
	rare := 0
	for s := range a.live.all() {
		if s.rare != nil {
			rare++
		}
	}
	if rare > 0 {
		t.Errorf("%d of 100 open WebSocket connections hold a streamRare", rare)
	}
	a.Finish()
}

// TestStamps: a stream's times come back exactly as they were set,
// packed (UTC, as capture files' readers give them; Local, as a live
// capture's; the zero time) or, those that cannot be, whole in its
// streamRare.
func TestStamps(t *testing.T) {
	base := time.Date(2024, 1, 1, 12, 0, 0, 123456789, time.UTC)
	cases := []struct {
		name   string
		t      time.Time
		packed bool
	}{
		{"UTC", base, true},
		{"Local", time.Unix(base.Unix(), 987), true},
		{"zero", time.Time{}, true},
		{"1970", time.Unix(0, 0).UTC(), true},
		{"before 1700", time.Date(1200, 5, 1, 0, 0, 0, 1, time.UTC), false},
		{"after 2200", time.Date(9999, 5, 1, 0, 0, 0, 1, time.UTC), false},
		{"another location", base.In(time.FixedZone("X", 3600)), false},
		{"monotonic", time.Now(), false},
	}
	for _, c := range cases {
		s := &stream{}
		s.setSeen(base)
		s.setLast(c.t)
		if got := s.lastTS(); got != c.t {
			t.Errorf("%s: last %v, set %v", c.name, got, c.t)
		}
		if got := s.seenTS(); got != base {
			t.Errorf("%s: seen %v, set %v", c.name, got, base)
		}
		s.setSeen(c.t)
		if got := s.seenTS(); got != c.t {
			t.Errorf("%s: seen %v, set %v", c.name, got, c.t)
		}
		if packed := s.rare == nil; packed != c.packed {
			t.Errorf("%s: packed %v, want %v", c.name, packed, c.packed)
		}
	}
}
