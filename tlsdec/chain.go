package tlsdec

// Finding a side's record boundary again where bytes lost ended inside a
// record (its header lost with them) and nothing proves a record by its
// tag: a side whose TLS hello was lost with its first bytes (a flight over
// several segments, only the first lost), or a side whose records are only
// counted (no keys) after a gap. A candidate is a chain of plausible record
// headers, each where the previous one's length says the next is: the
// earliest offset that starts a chain of ChainHeaders headers of one
// version is taken; the bytes before it are searched and not decoded
// (Info.Skipped). Until now such a side read its next bytes as a header
// ("not a TLS record"), and a connection whose first bytes were such a
// side's was not taken for TLS at all.
//
// Cost: each offset is tried once, reading at most ChainHeaders headers:
// linear in the bytes searched. Memory: the bytes from the offset being
// tried on, at most ChainHeaders records ahead (3 x (5+MaxRecord), 55 KB)
// and the piece fed last.

// ChainHeaders is how many chained record headers a search needs to take
// an offset for a record boundary. A header of random bytes passes
// PlausibleHeader with a chance of about 1 in 2^28; chained, three at
// once about 1 in 2^84.
const ChainHeaders = 3

// PlausibleHeader reports whether h (5 bytes) may be the header of a TLS
// record of an established connection: a ChangeCipherSpec of 1 byte, an
// alert of 2 bytes at least, a handshake or application data record, of
// TLS 1.0-1.3 (major 3, minor 1-4), its length from 1 to MaxRecord.
func PlausibleHeader(h []byte) bool {
	if len(h) < 5 {
		return false
	}
	l := int(h[3])<<8 | int(h[4])
	switch {
	case h[1] != 3 || h[2] < 1 || h[2] > 4 || l == 0 || l > MaxRecord:
		return false
	case h[0] == typeChangeCipherSpec:
		return l == 1
	case h[0] == typeAlert:
		return l >= 2
	}
	return h[0] == typeHandshake || h[0] == typeApplicationData
}

// ChainSearch finds a record boundary in a side's bytes fed to it in
// order. The zero value is ready.
type ChainSearch struct {
	buf   []byte // bytes from offset base on
	base  int64  // offset of buf[0] from the search's start
	at    int64  // the offset being tried
	total int64  // bytes fed
	found bool
	tried int   // headers read (tests: linear)
	Limit int64 // give up (Add reports done, not found) once the offset tried reaches it; 0: never
}

// Add feeds bytes and reports whether the search ended: found (Start
// says where) or given up (Limit reached).
func (s *ChainSearch) Add(b []byte) (done bool) {
	if s.found {
		return true
	}
	s.buf = append(s.buf, b...)
	s.total += int64(len(b))
	return s.run(false)
}

// Finish tries the offsets still waiting for bytes once no more come: a
// chain also counts when its last record ends exactly where the bytes
// end (a side that sent fewer records than ChainHeaders after the
// loss). It reports whether a boundary was found.
func (s *ChainSearch) Finish() bool {
	if !s.found {
		s.run(true)
	}
	return s.found
}

// Found reports whether a boundary was found; Start is its offset from
// the search's start (the bytes before it were searched, not decoded);
// Rest the bytes from it on, valid until the next call.
func (s *ChainSearch) Found() bool  { return s.found }
func (s *ChainSearch) Start() int64 { return s.at }
func (s *ChainSearch) Rest() []byte { return s.buf[s.at-s.base:] }

// Total is the bytes fed so far.
func (s *ChainSearch) Total() int64 { return s.total }

// Held is the bytes the search keeps.
func (s *ChainSearch) Held() int { return cap(s.buf) }

// run tries offsets from s.at on; at the end (final), a chain may end
// exactly at the last byte.
func (s *ChainSearch) run(final bool) bool {
	for {
		if s.Limit > 0 && s.at >= s.Limit {
			s.compact()
			return true
		}
		i := int(s.at - s.base)
		if i >= len(s.buf) {
			s.compact()
			return false
		}
		switch s.chainAt(i, final) {
		case chainYes:
			s.found = true
			return true
		case chainWait:
			s.compact()
			return false
		}
		s.at++
	}
}

const (
	chainNo = iota
	chainYes
	chainWait // more bytes needed to tell
)

// chainAt tells whether a chain of ChainHeaders headers of one version
// starts at buf[i]; final: no more bytes come, and a chain ending exactly
// at the end of buf counts.
func (s *ChainSearch) chainAt(i int, final bool) int {
	q := i
	var ver [2]byte
	for n := 0; n < ChainHeaders; n++ {
		if q+5 > len(s.buf) {
			if final {
				if n > 0 && q == len(s.buf) {
					return chainYes
				}
				return chainNo
			}
			if q > len(s.buf) {
				return chainWait // (the record goes on past the bytes come)
			}
			if h := s.buf[q:]; !plausiblePrefix(h) || n > 0 && len(h) > 2 && (h[1] != ver[0] || h[2] != ver[1]) {
				return chainNo // what came of the header already fails
			}
			return chainWait
		}
		s.tried++
		h := s.buf[q : q+5]
		if !PlausibleHeader(h) || n > 0 && (h[1] != ver[0] || h[2] != ver[1]) {
			return chainNo
		}
		ver = [2]byte{h[1], h[2]}
		q += 5 + (int(h[3])<<8 | int(h[4]))
	}
	return chainYes
}

// plausiblePrefix reports whether some header that starts with b (under
// 5 bytes: a header cut by the end of what came) is plausible, so that
// it is refused as soon as what came fails, and not before: the length's
// missing bytes are tried as 1 (a ChangeCipherSpec's only length) and as
// 2 (an alert's least), each the smallest its low byte can give. (Filled
// with 1 alone, an alert's header cut before its length's low byte was
// refused, and a side whose only record after a loss was an alert found
// no boundary: FuzzChainSearch, testdata 0f90cb9df1d1f850.)
func plausiblePrefix(b []byte) bool {
	for _, low := range [...]byte{1, 2} {
		h := [5]byte{typeApplicationData, 3, 3, 0, low}
		copy(h[:], b)
		if PlausibleHeader(h[:]) {
			return true
		}
	}
	return false
}

// compact drops the bytes before the offset being tried, when they are
// at least half of what is kept (amortised linear).
func (s *ChainSearch) compact() {
	i := int(s.at - s.base)
	if i > len(s.buf) {
		i = len(s.buf)
	}
	if i == 0 || i < len(s.buf)-i && i < 4096 {
		return
	}
	n := copy(s.buf, s.buf[i:])
	s.buf = s.buf[:n]
	s.base += int64(i)
	if cap(s.buf) > 4*(5+MaxRecord) && n < (5+MaxRecord) {
		s.buf = append([]byte(nil), s.buf...) // a large piece fed once is not kept
	}
}
