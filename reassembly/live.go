package reassembly

import (
	"encoding/binary"
	"hash/maphash"
	"iter"
)

// liveSet holds the connections gopacket holds, by gopacket's key (a
// tuple), in a table of the streams themselves (open addressing, linear
// probing): a stream's key is made from its addresses (gtuple), so a slot
// is 8 bytes and a byte of its key's hash (tags: a search looks at a
// stream only where they match), at a load of 1/2 to 3/4 about 15 bytes a
// connection. A map by a 12-byte key took 24-byte entries, 31-43 bytes a
// connection with the map's slack (a map of tuples 48-byte ones before).
type liveSet struct {
	slots []*stream
	tags  []uint8
	n     int
	seed  maphash.Seed
	gets  int // look-ups (get), for tests of what searches cost
}

func newLiveSet() liveSet {
	return liveSet{seed: maphash.MakeSeed()}
}

// gtuple is gopacket's key of s as a tuple: s.gkey().tuple(), made from
// its addresses.
func (s *stream) gtuple() tuple {
	var t tuple
	f, o := s.flip, 1-s.flip
	if v6 := s.v6(); v6 != nil {
		t.v6, t.src, t.dst = true, v6[f], v6[o]
	} else {
		copy(t.src[:], s.addr.v4[f][:])
		copy(t.dst[:], s.addr.v4[o][:])
	}
	t.sp, t.dp = s.addr.port[f], s.addr.port[o]
	if s.rare != nil {
		t.lane = s.rare.lane
	}
	return t
}

// home is the slot where the search for t starts, and t's tag.
func (l *liveSet) home(t *tuple) (int, uint8) {
	var b [37]byte
	n := 4
	if t.v6 {
		n, b[36] = 16, 1
	}
	copy(b[:], t.src[:n])
	copy(b[n:], t.dst[:n])
	binary.BigEndian.PutUint16(b[2*n:], t.sp)
	binary.BigEndian.PutUint16(b[2*n+2:], t.dp)
	// A lane (lanes.go) moves the home: the lanes of a 4-tuple (up to
	// 256) are not one cluster that every search for one of them walks.
	h := maphash.Bytes(l.seed, b[:2*n+4]) ^ uint64(b[36]) ^ uint64(t.lane)*0x9e3779b97f4a7c15
	return int((h >> 32) * uint64(len(l.slots)) >> 32), uint8(h)
}

// find returns the slot of t, or of the empty slot where it would go.
func (l *liveSet) find(t tuple) (int, uint8) {
	i, tag := l.home(&t)
	for l.slots[i] != nil && (l.tags[i] != tag || l.slots[i].gtuple() != t) {
		if i++; i == len(l.slots) {
			i = 0
		}
	}
	return i, tag
}

func (l *liveSet) get(t tuple) *stream {
	l.gets++
	if l.n == 0 {
		return nil
	}
	i, _ := l.find(t)
	return l.slots[i]
}

// set holds s under t, which is s's gtuple (in place of a stream held
// under t before).
func (l *liveSet) set(t tuple, s *stream) {
	if 4*(l.n+1) > 3*len(l.slots) {
		l.resize(max(16, len(l.slots)*3/2))
	}
	i, tag := l.find(t)
	if l.slots[i] == nil {
		l.n++
	}
	l.slots[i], l.tags[i] = s, tag
}

func (l *liveSet) del(t tuple) {
	if l.n == 0 {
		return
	}
	i, _ := l.find(t)
	if l.slots[i] == nil {
		return
	}
	// The streams after it that the hole would hide from their search
	// move back into it (no tombstones).
	size := len(l.slots)
	for j := i; ; {
		if j++; j == size {
			j = 0
		}
		s := l.slots[j]
		if s == nil {
			break
		}
		gt := s.gtuple()
		if k, _ := l.home(&gt); (j-k+size)%size >= (j-i+size)%size {
			l.slots[i], l.tags[i], i = s, l.tags[j], j
		}
	}
	l.slots[i] = nil
	l.n--
	if len(l.slots) > 64 && 8*l.n < len(l.slots) {
		l.resize(len(l.slots) / 2)
	}
}

// resize moves the streams to a table of size slots.
func (l *liveSet) resize(size int) {
	old := l.slots
	l.slots, l.tags = make([]*stream, size), make([]uint8, size)
	for _, s := range old {
		if s != nil {
			i, tag := l.find(s.gtuple())
			l.slots[i], l.tags[i] = s, tag
		}
	}
}

func (l *liveSet) len() int { return l.n }

// all yields the connections in no order; the set must not change
// meanwhile.
func (l *liveSet) all() iter.Seq[*stream] {
	return func(yield func(*stream) bool) {
		for _, s := range l.slots {
			if s != nil && !yield(s) {
				return
			}
		}
	}
}
