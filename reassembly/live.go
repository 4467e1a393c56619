package reassembly

import "iter"

// liveSet holds the connections gopacket holds, by gopacket's key (a
// tuple). IPv4 connections, nearly all of them, are held by a 12-byte
// key: a map entry of 24 bytes, not the 48 of a tuple's (about 45 bytes a
// connection with the map's slack, 4.5 MB for 100 000).
type liveSet struct {
	v4 map[tuple4]*stream
	v6 map[tuple]*stream
}

type tuple4 struct {
	src, dst [4]byte
	sp, dp   uint16
}

func newLiveSet() liveSet {
	return liveSet{v4: map[tuple4]*stream{}, v6: map[tuple]*stream{}}
}

func (t *tuple) four() tuple4 {
	return tuple4{[4]byte(t.src[:4]), [4]byte(t.dst[:4]), t.sp, t.dp}
}

func (l *liveSet) get(t tuple) *stream {
	if t.v6 {
		return l.v6[t]
	}
	return l.v4[t.four()]
}

func (l *liveSet) set(t tuple, s *stream) {
	if t.v6 {
		l.v6[t] = s
	} else {
		l.v4[t.four()] = s
	}
}

func (l *liveSet) del(t tuple) {
	if t.v6 {
		delete(l.v6, t)
	} else {
		delete(l.v4, t.four())
	}
}

func (l *liveSet) len() int { return len(l.v4) + len(l.v6) }

// all yields the connections in no order.
func (l *liveSet) all() iter.Seq[*stream] {
	return func(yield func(*stream) bool) {
		for _, s := range l.v4 {
			if !yield(s) {
				return
			}
		}
		for _, s := range l.v6 {
			if !yield(s) {
				return
			}
		}
	}
}
