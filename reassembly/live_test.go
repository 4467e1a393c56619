package reassembly

import (
	"math/rand/v2"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TestLiveSet: the table of live streams finds what a map by their keys
// finds, through growth, deletions (streams moved back over a hole,
// around the table's end) and shrinking, for IPv4 and IPv6 streams either
// way round; its slots are 8 bytes, fewer than 2 per stream.
func TestLiveSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := newLiveSet()
	ref := map[tuple]*stream{}
	var all []*stream
	mk := func(i int) *stream {
		src, dst := []byte{10, 0, byte(i >> 8), byte(i)}, []byte{192, 0, 2, 1}
		typ := layers.EndpointIPv4
		if i%5 == 0 {
			typ = layers.EndpointIPv6
			src, dst = append(make([]byte, 12), src...), append(make([]byte, 12), dst...)
			src[0], dst[0] = 0x20, 0x20
		}
		k := flowKey{gopacket.NewFlow(typ, src, dst), gopacket.NewFlow(layers.EndpointTCPPort, []byte{byte(i), 1}, []byte{0, 80})}
		s := &stream{}
		s.setAddr(k)
		if i%3 == 0 {
			k = k.reverse()
		}
		s.attach(k)
		if s.gtuple() != k.tuple() {
			t.Fatalf("stream %d: gtuple %v, key %v", i, s.gtuple(), k.tuple())
		}
		return s
	}
	check := func(when string) {
		t.Helper()
		if l.len() != len(ref) {
			t.Fatalf("%s: %d held, want %d", when, l.len(), len(ref))
		}
		for _, s := range all {
			if got, want := l.get(s.gtuple()), ref[s.gtuple()]; got != want {
				t.Fatalf("%s: get gives %p, want %p", when, got, want)
			}
		}
		n := 0
		for s := range l.all() {
			if ref[s.gtuple()] != s {
				t.Fatalf("%s: all yields a stream not held", when)
			}
			n++
		}
		if n != len(ref) {
			t.Fatalf("%s: all yields %d, want %d", when, n, len(ref))
		}
	}
	for i := range 3000 {
		s := mk(i)
		all = append(all, s)
		l.set(s.gtuple(), s)
		ref[s.gtuple()] = s
	}
	check("3000 set")
	t.Logf("%d streams in %d slots", l.len(), len(l.slots))
	if len(l.slots) > 2*l.len() {
		t.Errorf("%d streams in %d slots", l.len(), len(l.slots))
	}
	// Another stream under a key held takes its place.
	s := mk(7)
	l.set(s.gtuple(), s)
	ref[s.gtuple()] = s
	check("replaced")
	for _, i := range rng.Perm(3000)[:2900] {
		l.del(all[i].gtuple())
		delete(ref, all[i].gtuple())
		if i%97 == 0 {
			check("deleting")
		}
	}
	check("2900 deleted")
	if len(l.slots) > 8*max(l.len(), 16) {
		t.Errorf("%d streams in %d slots after deletions", l.len(), len(l.slots))
	}
	for i := 3000; i < 3500; i++ {
		s := mk(i)
		all = append(all, s)
		l.set(s.gtuple(), s)
		ref[s.gtuple()] = s
	}
	check("500 more")
}

// TestLiveSetLanes: the 256 lanes of one 4-tuple (lanes.go) start their
// searches at different slots. With the lane out of the home, they were
// one run of 256 slots that each search for one of them walked: copyOf
// looks up every lane at each SYN, and 200 000 SYNs on a 4-tuple with 256
// lanes took 180 s rather than 10 s.
func TestLiveSetLanes(t *testing.T) {
	l := newLiveSet()
	src, dst := []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}
	tf := gopacket.NewFlow(layers.EndpointTCPPort, []byte{0x9c, 0x40}, []byte{0, 80})
	for lane := range maxLanes {
		k := flowKey{laneFlow(uint8(lane), src, dst), tf}
		s := &stream{}
		s.setAddr(k)
		s.attach(k)
		l.set(k.tuple(), s)
	}
	homes := map[int]bool{}
	longest := 0
	for lane := range maxLanes {
		tu := flowKey{laneFlow(uint8(lane), src, dst), tf}.tuple()
		h, _ := l.home(&tu)
		i, _ := l.find(tu)
		homes[h] = true
		longest = max(longest, (i-h+len(l.slots))%len(l.slots))
		if l.get(tu) == nil || l.get(tu).lane() != uint8(lane) {
			t.Fatalf("lane %d not found", lane)
		}
	}
	if len(homes) < maxLanes/4 || longest > 32 {
		t.Errorf("256 lanes: %d home slots, a search walks up to %d slots", len(homes), longest)
	}
}
