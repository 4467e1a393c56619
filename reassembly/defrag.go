// IP fragments reassembled into their datagrams (IPv4, RFC 791; IPv6,
// RFC 8200 section 4.5), as a host and tshark reassemble them: fragmenting
// a TCP segment must not hide its bytes.

package reassembly

import (
	"encoding/binary"
	"slices"
	"time"
)

// Bounds on the datagrams being reassembled, Linux's values (ipfrag_time,
// ipfrag_high_thresh): a datagram whose fragments do not all come within
// defragTimeout of its first, or the oldest when the held bytes would pass
// defragMaxBytes, is given up and its fragments counted as lost. (Linux,
// past the bound, takes no fragment until its held bytes fall, in
// inet_frag_find: here a flood of fragments that never complete gives up
// the datagrams in progress, and the fragments after it are reassembled.)
const (
	defragTimeout  = 30 * time.Second
	defragMaxBytes = 4 << 20
	defragMaxLen   = 65535 // an IP datagram's payload, at most (both versions without jumbograms)
	defragUnit     = 8     // fragment offsets count 8-byte units
	defragRecent   = 4096  // datagrams reassembled whose keys are kept (about 160 KiB)
	defragSpares   = 4     // buffers of defragMaxLen kept for reuse (256 KiB)
)

// ipFragment is one IP fragment: the header to keep for the datagram (the
// IPv4 header, or IPv6's fixed header), where its data goes, and the
// datagram's identity.
type ipFragment struct {
	key    defragKey
	header []byte // aliases the packet
	off    int    // in bytes
	more   bool   // more fragments follow (MF, M)
	data   []byte // aliases the packet
	cut    bool   // captured shorter than its IP header says
	next   uint8  // IPv6: the next header after the fragment header
	mayTCP bool   // its protocol or next header may carry TCP
}

// defragKey is a datagram's identity: IPv4's addresses, protocol and id
// (RFC 791); IPv6's addresses and id (RFC 8200 section 4.5: the next
// header of the fragments after the first may differ from the first's,
// which alone counts; Linux and tshark key them so, and a key with it
// let a sender make wsdump give up a datagram the host reassembles).
type defragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8 // IPv4's protocol; 0 for IPv6
	v6       bool
}

// datagram is a datagram being reassembled.
type datagram struct {
	key    defragKey
	start  time.Time
	header []byte // of the first fragment (offset 0), once it came
	next   uint8  // IPv6: the first fragment's next header
	// The first fragment's next header, or until it came any fragment's,
	// may carry TCP: IPv6 datagrams that may not are given up first when
	// the held bytes pass the bound (shrink).
	mayTCP bool
	data   []byte // the payload so far, as long as the furthest fragment
	have   []uint64
	units  int // 8-byte units held
	total  int // payload length once the last fragment came, else -1
	frags  int
	done   bool // reassembled or given up: left in the queue until popped
}

// defragmenter holds the datagrams being reassembled, oldest first.
type defragmenter struct {
	m     map[defragKey]*datagram
	queue []*datagram
	done  int      // datagrams in queue that are done
	other int      // datagrams held that may not carry TCP (!mayTCP)
	bytes int      // the datagrams' data and maps, held
	out   []byte   // the last datagram reassembled, reused
	spare [][]byte // buffers of defragMaxLen given back, reused (a few)
	// The keys of the last defragRecent datagrams reassembled (a ring,
	// and for each, how many times it is in it and the last one's
	// length): a datagram given up with one of them that fits in that
	// length is late copies of fragments already reassembled.
	recent    map[defragKey]recentDatagram
	recentLog []defragKey
	recentAt  int
}

type recentDatagram struct{ n, total int }

// haveBytes is a datagram's map of the units it holds.
const haveBytes = (defragMaxLen/defragUnit + 64) / 64 * 8

// add takes a fragment that arrived at ts and returns the whole datagram
// (IP header and payload; valid until the next call) when it completes
// one. Fragments given up are counted in st.
func (d *defragmenter) add(f *ipFragment, ts time.Time, st *Stats) ([]byte, bool) {
	d.expire(ts, st)
	d.compact()
	end := f.off + len(f.data)
	if end > defragMaxLen || f.more && len(f.data)%defragUnit != 0 || f.more && len(f.data) == 0 {
		// RFC 791/8200: only the last fragment may end off the unit;
		// nothing may pass the datagram's largest size.
		st.FragmentsLost++
		return nil, false
	}
	if d.m == nil {
		d.m = map[defragKey]*datagram{}
	}
	g := d.m[f.key]
	may := f.mayTCP
	if g == nil {
		g = &datagram{key: f.key, start: ts, total: -1, have: make([]uint64, haveBytes/8), mayTCP: true}
		d.bytes += haveBytes
		d.m[f.key] = g
		d.queue = append(d.queue, g)
	} else if g.header != nil || f.off != 0 && g.mayTCP {
		may = g.mayTCP // the first fragment's, or one before it may
	}
	if may != g.mayTCP {
		g.mayTCP = may
		if may {
			d.other--
		} else {
			d.other++
		}
	}
	g.frags++
	if !f.more {
		if g.total >= 0 && g.total != end || end < g.furthest() {
			d.drop(g, st) // two ends, or data past the end
			return nil, false
		}
		g.total = end
	} else if g.total >= 0 && end > g.total {
		d.drop(g, st)
		return nil, false
	}
	if f.off == 0 && g.header == nil {
		g.header, g.next = append([]byte(nil), f.header...), f.next
	}
	if end > len(g.data) {
		if end > cap(g.data) {
			n := max(end, 2*cap(g.data))
			if n = min(n, defragMaxLen); n > defragMaxLen/2 {
				n = defragMaxLen
			}
			d.bytes += n - cap(g.data)
			g.data = append(d.buffer(n), g.data...)
		}
		g.data = g.data[:end]
	}
	// The first copy of each unit is kept; a later one with other bytes
	// is counted.
	conflict := false
	for u := f.off / defragUnit; u*defragUnit < end; u++ {
		lo, hi := u*defragUnit, min((u+1)*defragUnit, end)
		src := f.data[lo-f.off : hi-f.off]
		if g.have[u/64]&(1<<(u%64)) != 0 {
			if string(g.data[lo:hi]) != string(src) {
				conflict = true
			}
			continue
		}
		g.have[u/64] |= 1 << (u % 64)
		g.units++
		copy(g.data[lo:hi], src)
	}
	if conflict {
		st.FragmentConflicts++
	}
	if d.bytes > defragMaxBytes {
		d.shrink(g, st)
	}
	if g.done || g.total < 0 || g.header == nil || g.units != (g.total+defragUnit-1)/defragUnit {
		return nil, false
	}
	if !f.key.v6 && len(g.header)+g.total > defragMaxLen {
		d.drop(g, st) // an IPv4 datagram's length, header included, is 16 bits
		return nil, false
	}
	d.out = append(d.out[:0], g.header...)
	d.out = append(d.out, g.data[:g.total]...)
	d.remember(g.key, g.total)
	d.retire(g)
	st.Defragmented++
	if f.key.v6 {
		binary.BigEndian.PutUint16(d.out[4:], uint16(g.total))
		d.out[6] = g.next
	} else {
		binary.BigEndian.PutUint16(d.out[2:], uint16(len(d.out)))
		d.out[6] &= 0x40 // DF kept; MF and the offset cleared
		d.out[7] = 0
	}
	return d.out, true
}

// buffer is an empty buffer of capacity n: a spare one when n is
// defragMaxLen, its bytes left as they were (have says which are held),
// else a new one. A flood of fragments far into their datagrams, each
// given up, made and zeroed 64 KiB for each 8 bytes.
func (d *defragmenter) buffer(n int) []byte {
	if k := len(d.spare); n == defragMaxLen && k > 0 {
		b := d.spare[k-1]
		d.spare = d.spare[:k-1]
		return b
	}
	return make([]byte, 0, n)
}

// furthest is the end of the data held.
func (g *datagram) furthest() int { return len(g.data) }

// expire gives up the datagrams older than defragTimeout.
func (d *defragmenter) expire(ts time.Time, st *Stats) {
	for len(d.queue) > 0 {
		g := d.queue[0]
		if !g.done && ts.Sub(g.start) < defragTimeout {
			return
		}
		d.drop(g, st)
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.done--
	}
}

// shrink gives up the oldest datagrams but keep until the held bytes are
// under the bound again, or keep itself when it alone is over it; IPv6
// datagrams that may not carry TCP first (every IPv6 fragment is held,
// and a flood of ICMPv6 or ESP fragments that never complete would give
// up TCP datagrams in progress).
func (d *defragmenter) shrink(keep *datagram, st *Stats) {
	// First those that may not carry TCP (other counts them, so that a
	// flood of fragments that may is not passed over twice).
	for _, g := range d.queue {
		if d.bytes <= defragMaxBytes || d.other == 0 {
			break
		}
		if !g.done && g != keep && !g.mayTCP {
			d.drop(g, st)
		}
	}
	for _, g := range d.queue {
		if d.bytes <= defragMaxBytes {
			return
		}
		if !g.done && g != keep {
			d.drop(g, st)
		}
	}
	if d.bytes > defragMaxBytes {
		d.drop(keep, st)
	}
}

// drop gives a datagram up: its fragments are lost, or late copies.
func (d *defragmenter) drop(g *datagram, st *Stats) {
	if !g.done {
		if r := d.recent[g.key]; r.n > 0 && len(g.data) <= r.total && (g.total < 0 || g.total == r.total) {
			st.FragmentsLate += uint64(g.frags)
		} else {
			st.FragmentsLost += uint64(g.frags)
		}
		d.retire(g)
	}
}

// remember keeps the key and length of a datagram reassembled,
// forgetting the oldest past defragRecent.
func (d *defragmenter) remember(k defragKey, total int) {
	if d.recent == nil {
		d.recent, d.recentLog = map[defragKey]recentDatagram{}, make([]defragKey, 0, defragRecent)
	}
	if len(d.recentLog) < defragRecent {
		d.recentLog = append(d.recentLog, k)
	} else {
		old := d.recentLog[d.recentAt]
		if r := d.recent[old]; r.n == 1 {
			delete(d.recent, old)
		} else {
			d.recent[old] = recentDatagram{r.n - 1, r.total}
		}
		d.recentLog[d.recentAt] = k
		d.recentAt = (d.recentAt + 1) % defragRecent
	}
	d.recent[k] = recentDatagram{d.recent[k].n + 1, total}
}

// retire forgets a datagram reassembled or given up. It stays in the
// queue until it reaches its head, or the queue is compacted once more
// than half of it is done.
func (d *defragmenter) retire(g *datagram) {
	g.done = true
	if !g.mayTCP {
		d.other--
	}
	delete(d.m, g.key)
	d.bytes -= cap(g.data) + haveBytes
	if cap(g.data) == defragMaxLen && len(d.spare) < defragSpares {
		d.spare = append(d.spare, g.data[:0])
	}
	g.data, g.have, g.header = nil, nil, nil
	d.done++
}

// compact drops the datagrams done from the queue once they are more than
// half of it: each is passed over once.
func (d *defragmenter) compact() {
	if d.done > 64 && d.done > len(d.queue)/2 {
		d.queue = slices.DeleteFunc(d.queue, func(g *datagram) bool { return g.done })
		d.done = 0
	}
}

// finish gives up every datagram still incomplete at the capture's end.
func (d *defragmenter) finish(st *Stats) {
	for _, g := range d.queue {
		d.drop(g, st)
	}
	d.queue, d.done = nil, 0
}
