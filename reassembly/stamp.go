package reassembly

import "time"

// A stream's two times (its last bytes, its latest packet) are held as
// Unix nanoseconds and two bits each (stream.stamps), 8 bytes, not the 24
// of a time.Time: 32 bytes a connection, 3 MB for 100 000 open ones. A
// time that does not come back the same from them (another location than
// UTC or Local, a monotonic reading, a year out of 1700-2200, as hostile
// captures' may be) makes the stream hold both whole, in its streamRare.
const (
	stampZero  = 0 // the zero time
	stampUTC   = 1
	stampLocal = 2

	stampLast = 0 // shift of the last bytes' kind in stream.stamps
	stampSeen = 2 // and of the latest packet's
	stampWide = 1 << 4
)

// Unix seconds of 1700 and 2200: Unix nanoseconds hold ±292 years.
const minStampSec, maxStampSec = -8520336000, 7258118400

func packStamp(t time.Time) (ns int64, kind uint8, ok bool) {
	if t.IsZero() {
		return 0, stampZero, t == time.Time{}
	}
	if sec := t.Unix(); sec < minStampSec || sec >= maxStampSec {
		return 0, 0, false
	}
	switch t.Location() {
	case time.UTC:
		kind = stampUTC
	case time.Local:
		kind = stampLocal
	default:
		return 0, 0, false
	}
	ns = t.UnixNano()
	return ns, kind, unpackStamp(ns, kind) == t
}

func unpackStamp(ns int64, kind uint8) time.Time {
	switch kind {
	case stampUTC:
		return time.Unix(0, ns).UTC()
	case stampLocal:
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// wideStamps holds a stream's times whole (see above).
type wideStamps struct{ last, seen time.Time }

func (s *stream) lastTS() time.Time {
	if s.stamps&stampWide != 0 {
		return s.rare.wide.last
	}
	return unpackStamp(s.lastNs, s.stamps>>stampLast&3)
}

func (s *stream) seenTS() time.Time {
	if s.stamps&stampWide != 0 {
		return s.rare.wide.seen
	}
	return unpackStamp(s.seenNs, s.stamps>>stampSeen&3)
}

func (s *stream) setLast(t time.Time) {
	if s.stamps&stampWide == 0 {
		if ns, kind, ok := packStamp(t); ok {
			s.lastNs, s.stamps = ns, s.stamps&^(3<<stampLast)|kind<<stampLast
			return
		}
		s.widen()
	}
	s.rare.wide.last = t
}

func (s *stream) setSeen(t time.Time) {
	if s.stamps&stampWide == 0 {
		if ns, kind, ok := packStamp(t); ok {
			s.seenNs, s.stamps = ns, s.stamps&^(3<<stampSeen)|kind<<stampSeen
			return
		}
		s.widen()
	}
	s.rare.wide.seen = t
}

// widen moves the stream's times to its streamRare, whole.
func (s *stream) widen() {
	s.more().wide = &wideStamps{last: s.lastTS(), seen: s.seenTS()}
	s.stamps |= stampWide
}
