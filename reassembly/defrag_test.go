package reassembly

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// fragmented is pkts with each packet whose IP payload is over size bytes
// cut into fragments of size bytes: every other one's fragments come last
// first, and the first fragment of every third is sent twice. n is the
// number of packets fragmented.
func fragmented(pkts []synth.Packet, size int, wrap func([]byte) []byte) (out []synth.Packet, n int) {
	for i, p := range pkts {
		ip := p.Data[ethernetHeaderLen:]
		frags := synth.FragmentIP(ip, size, uint32(1000+i))
		if len(frags) == 1 {
			out = append(out, synth.Packet{TS: p.TS, Data: wrap(p.Data)})
			continue
		}
		n++
		if n%2 == 0 {
			slices.Reverse(frags)
		}
		if n%3 == 0 {
			frags = append([][]byte{frags[0]}, frags...)
		}
		for _, f := range frags {
			out = append(out, synth.Packet{TS: p.TS, Data: wrap(linkCat(p.Data[:ethernetHeaderLen], f))})
		}
	}
	return out, n
}

// TestDefragSameRecords: two real captures (node ws over IPv4 and IPv6)
// with their larger packets cut into IP fragments, out of order and
// repeated, give the records of the capture as it was; so do they inside
// a VXLAN tunnel, and with the tunnel's packets fragmented. Before
// defrag.go every fragment was skipped and its bytes lost.
func TestDefragSameRecords(t *testing.T) {
	t.Parallel()
	same := func(f []byte) []byte { return f }
	vxlan := synth.Tunnels[slices.IndexFunc(synth.Tunnels, func(tun synth.Tunnel) bool { return tun.Name == "vxlan" })].Wrap
	for _, fixture := range []string{"gen__ws-node-basic", "gen__ws-node-ipv6"} {
		pkts, err := synth.ReadPcap("../testdata/pcaps/" + fixture + ".pcap")
		if err != nil {
			t.Fatal(err)
		}
		want, _ := run(pkts, Options{}, 1)
		frag, n := fragmented(pkts, 1024, same)
		inVXLAN, _ := fragmented(pkts, 1024, vxlan)
		var outer []synth.Packet // the VXLAN packets fragmented
		for _, p := range pkts {
			w := vxlan(p.Data)
			for _, f := range synth.FragmentIP(w[ethernetHeaderLen:], 1480, 7) {
				outer = append(outer, synth.Packet{TS: p.TS, Data: linkCat(w[:ethernetHeaderLen], f)})
			}
		}
		for _, tc := range []struct {
			name string
			pkts []synth.Packet
			jobs int
		}{{"fragments", frag, 1}, {"fragments", frag, 2}, {"fragments in vxlan", inVXLAN, 1}, {"vxlan fragmented", outer, 1}} {
			got, st := run(tc.pkts, Options{}, tc.jobs)
			if g, w := strings.Join(got.lines, "\n"), strings.Join(want.lines, "\n"); g != w {
				t.Errorf("%s %s, -j %d: %d records, want %d:\n%s", fixture, tc.name, tc.jobs, len(got.lines), len(want.lines), g)
			}
			if st.FragmentsLost != 0 || st.FragmentConflicts != 0 || st.NotTCP != 0 || tc.pkts[0].TS.IsZero() {
				t.Errorf("%s %s: stats %+v", fixture, tc.name, st)
			}
			if tc.name == "fragments" && (n < 5 || st.Defragmented != uint64(n)) {
				t.Errorf("%s: %d packets fragmented, %d datagrams reassembled", fixture, n, st.Defragmented)
			}
		}
	}
}

// defragPkt is an IP packet (in an Ethernet frame) at a second; at -1:
// at 0, captured 4 bytes short.
type defragPkt struct {
	at   int // seconds
	data []byte
}

func defragRun(pkts []defragPkt) (tcp [][]byte, st Stats) {
	var d headerDecoder
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for _, p := range pkts {
		frame := synth.Ether(0x0800, p.data)
		if p.data[0]>>4 == 6 {
			frame = synth.Ether(0x86dd, p.data)
		}
		wire := len(frame)
		if p.at < 0 { // captured shorter than it was
			frame, wire = frame[:len(frame)-4], len(frame)
		}
		if _, whole, ok := d.decode(linkTypeEthernet, frame, wire, t0.Add(time.Duration(max(p.at, 0))*time.Second), &st); ok {
			tcp = append(tcp, append([]byte(nil), whole...))
		}
	}
	d.defrag.finish(&st)
	return tcp, st
}

// TestDefragRules: what is reassembled, what is given up and counted.
func TestDefragRules(t *testing.T) {
	t.Parallel()
	seg := synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 40000, 80, 1, 0, 0x18, bytes.Repeat([]byte("0123456789abcdef"), 8)[:124])
	f := synth.FragmentIP(seg, 48, 9) // 20 + 124 bytes: 48, 48, 48
	other := slices.Clone(f[1])
	other[len(other)-1] ^= 0xff
	seg6 := synth.IPv6(6, seg[20:])
	f6 := synth.FragmentIP(seg6, 64, 9)
	atomic := synth.FragmentIP(seg6, 4096, 10)[0] // offset 0, M 0
	odd := slices.Clone(f[0])
	odd = odd[:len(odd)-3] // a fragment with more to come, off the 8-byte unit
	binary.BigEndian.PutUint16(odd[2:], uint16(len(odd)))
	far := slices.Clone(f[2])
	binary.BigEndian.PutUint16(far[6:], 65528/8) // ends past 65 535
	// A datagram of 65 528 bytes of payload: with its 20 bytes of header,
	// longer than IPv4 can say.
	last := slices.Clone(f[2])
	binary.BigEndian.PutUint16(last[6:], (65528-48)/8)
	mid := synth.IPv4(6, make([]byte, 65528-96))
	copy(mid[12:20], seg[12:20])
	binary.BigEndian.PutUint16(mid[4:], 9)
	binary.BigEndian.PutUint16(mid[6:], 0x2000|48/8)
	// RFC 8200 section 4.5: the next header of the fragments after the
	// first may differ from the first's; only the first's counts (Linux
	// and tshark key a datagram by addresses and id alone).
	nh := func(frag []byte, next byte) []byte {
		frag = slices.Clone(frag)
		frag[40] = next
		return frag
	}
	f6odd := [][]byte{f6[0], nh(f6[1], 17), nh(f6[2], 59)}
	f6none := [][]byte{nh(f6[0], 59), f6[1], f6[2]}
	end2 := slices.Clone(f[2])
	binary.BigEndian.PutUint16(end2[6:], 200/8) // a second end
	p := func(at int, data ...[]byte) []defragPkt {
		var out []defragPkt
		for _, d := range data {
			out = append(out, defragPkt{at, d})
		}
		return out
	}
	tests := []struct {
		name                         string
		pkts                         []defragPkt
		whole                        int
		frags, done, lost, conflicts uint64
	}{
		{"in order", p(0, f...), 1, 3, 1, 0, 0},
		{"last first", p(0, f[2], f[1], f[0]), 1, 3, 1, 0, 0},
		{"ipv6", p(0, f6...), 1, 3, 1, 0, 0},
		{"ipv6 atomic fragment", p(0, atomic), 1, 1, 1, 0, 0},
		{"ipv6, later fragments' next headers other", p(0, f6odd...), 1, 3, 1, 0, 0},
		{"ipv6, later fragments' next headers other, last first", p(0, f6odd[2], f6odd[1], f6odd[0]), 1, 3, 1, 0, 0},
		{"ipv6, the first fragment's next header none, the others tcp", p(0, f6none...), 0, 3, 1, 0, 0},
		{"repeated, same bytes", p(0, f[0], f[1], f[1], f[2]), 1, 4, 1, 0, 0},
		{"overlap, other bytes: first kept", p(0, f[0], f[1], other, f[2]), 1, 4, 1, 0, 1},
		{"one missing", p(0, f[0], f[2]), 0, 2, 0, 2, 0},
		{"after the timeout", append(p(0, f[0], f[1]), p(30, f[2])...), 0, 3, 0, 3, 0},
		{"within the timeout", append(p(0, f[0], f[1]), p(29, f[2])...), 1, 3, 1, 0, 0},
		{"cut by the snap length", append(p(0, f[0], f[1]), defragPkt{-1, f[2]}), 0, 3, 0, 3, 0},
		{"off the unit with more to come", p(0, odd, f[1], f[2]), 0, 3, 0, 3, 0},
		{"past 65 535 bytes", p(0, f[0], f[1], far), 0, 3, 0, 3, 0},
		{"two last fragments", p(0, f[0], f[1], f[2], end2), 1, 4, 1, 1, 0},
		{"longer than an IPv4 header can say", p(0, f[0], mid, last), 0, 3, 0, 3, 0},
		{"two last fragments, then the rest", p(0, f[2], end2, f[0], f[1]), 0, 4, 0, 4, 0},
	}
	for _, tc := range tests {
		got, st := defragRun(tc.pkts)
		if len(got) != tc.whole || st.Fragments != tc.frags || st.Defragmented != tc.done || st.FragmentsLost != tc.lost || st.FragmentConflicts != tc.conflicts {
			t.Errorf("%s: %d TCP packets, fragments %d, reassembled %d, lost %d, conflicts %d; want %d, %d, %d, %d, %d",
				tc.name, len(got), st.Fragments, st.Defragmented, st.FragmentsLost, st.FragmentConflicts, tc.whole, tc.frags, tc.done, tc.lost, tc.conflicts)
			continue
		}
		for _, w := range got {
			want := slices.Clone(seg)
			binary.BigEndian.PutUint16(want[4:], 9) // the fragments' id
			if w[0]>>4 == 6 {
				want = seg6
			}
			if !bytes.Equal(w, want) {
				t.Errorf("%s: reassembled\n%x\nwant\n%x", tc.name, w, want)
			}
		}
	}
}

// TestDefragBounded: incomplete datagrams held stay under defragMaxBytes
// (the oldest are given up and counted), and datagrams done leave the
// queue, however many pass behind one that waits.
func TestDefragBounded(t *testing.T) {
	t.Parallel()
	var d defragmenter
	var st Stats
	ts := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	hdr := synth.IPv4(6, nil)
	frag := func(id uint32, off int, more bool, n int) *ipFragment {
		f := &ipFragment{header: hdr, off: off, more: more, data: make([]byte, n)}
		f.key.id = id
		return f
	}
	const held = 20000
	for i := range held { // first fragments only: never complete
		d.add(frag(uint32(i), 0, true, 1024), ts, &st)
		if d.bytes > defragMaxBytes {
			t.Fatalf("after %d datagrams: %d bytes held", i+1, d.bytes)
		}
	}
	kept := len(d.m)
	if st.FragmentsLost != uint64(held-kept) || kept == 0 {
		t.Errorf("%d datagrams held, %d fragments lost; want %d", kept, st.FragmentsLost, held-kept)
	}
	for i := range 100000 { // whole datagrams in two fragments
		id := uint32(held + i)
		d.add(frag(id, 0, true, 8), ts, &st)
		if _, ok := d.add(frag(id, 8, false, 8), ts, &st); !ok {
			t.Fatalf("datagram %d not reassembled", i)
		}
	}
	if len(d.queue) > 2*kept+200 {
		t.Errorf("queue of %d for %d datagrams held", len(d.queue), len(d.m))
	}
	d.add(frag(1<<30, 0, true, 8), ts.Add(defragTimeout), &st)
	if len(d.m) != 1 || st.FragmentsLost != held {
		t.Errorf("after the timeout: %d held, %d lost", len(d.m), st.FragmentsLost)
	}
}

// TestDefragLateCopies: a mirror port that sends each packet twice sends
// the last fragment of a datagram again after it was reassembled. That
// copy, given up, is a late copy (FragmentsLate), not a loss: the TCP
// bytes in it came. It was counted lost, and the notice said its bytes
// were lost on their connections.
func TestDefragLateCopies(t *testing.T) {
	t.Parallel()
	seg := synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 40000, 80, 1, 0, 0x18, make([]byte, 124))
	f := synth.FragmentIP(seg, 48, 9)
	var twice []defragPkt
	for _, frag := range f {
		twice = append(twice, defragPkt{0, frag}, defragPkt{0, frag})
	}
	got, st := defragRun(twice)
	if len(got) != 1 || st.Fragments != 6 || st.Defragmented != 1 || st.FragmentsLost != 0 || st.FragmentsLate != 1 {
		t.Errorf("each fragment twice: %d TCP packets, stats %+v; want 1, 6 fragments, 1 reassembled, 0 lost, 1 late", len(got), st)
	}
	// Another datagram with the id, one fragment missing: lost.
	other := synth.FragmentIP(synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 40000, 80, 2, 0, 0x18, make([]byte, 124)), 48, 8)
	_, st = defragRun([]defragPkt{{0, other[0]}, {0, other[1]}, {0, other[2]}, {0, f[0]}, {0, f[2]}})
	if st.FragmentsLost != 2 || st.FragmentsLate != 0 {
		t.Errorf("one missing: stats %+v; want 2 lost, 0 late", st)
	}
}

// TestDefragFarFragmentsReuse: a flood of 8-byte last fragments at
// offset 65 520, each of a new datagram, past defragMaxBytes: each holds
// a 64 KiB buffer, taken from those given up, not made and zeroed anew.
// Made anew, 300 000 of them (19 MB of capture) took 13 s of CPU.
func TestDefragFarFragmentsReuse(t *testing.T) {
	var d defragmenter
	var st Stats
	ts := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	hdr := synth.IPv4(6, nil)
	add := func(id uint32) {
		f := &ipFragment{header: hdr, off: 65520, data: make([]byte, 8)}
		f.key.id = id
		d.add(f, ts, &st)
	}
	for i := range 200 { // past the bound
		add(uint32(i))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 1000
	for i := range n {
		add(uint32(1000 + i))
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 8<<10 {
		t.Errorf("%d bytes allocated a fragment", per)
	}
	if d.bytes > defragMaxBytes || st.FragmentsLost < n {
		t.Errorf("%d bytes held, %d lost", d.bytes, st.FragmentsLost)
	}
}

// TestDefragFloodOfOtherFragments: every IPv6 fragment is reassembled
// (the first fragment's next header decides what the datagram carries),
// so a flood of IPv6 fragments that cannot carry TCP (ICMPv6 here), never
// completing, filled the 4 MiB held and gave up a TCP datagram in
// progress: past about 2 500 of 1 KiB, as a flood of UDP fragments (which
// may carry a tunnel) does. They are given up first now; a flood of UDP
// fragments still gives it up.
func TestDefragFloodOfOtherFragments(t *testing.T) {
	t.Parallel()
	seg := synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 40000, 80, 1, 0, 0x18, bytes.Repeat([]byte("0123456789abcdef"), 8)[:124])
	f6 := synth.FragmentIP(synth.IPv6(6, seg[20:]), 64, 9)
	for _, tc := range []struct {
		next byte
		tcp  int // datagrams reassembled
	}{{58, 1}, {50, 1}, {17, 0}} {
		const flood = 5000
		pkts := []defragPkt{{0, f6[0]}}
		for i := range flood {
			first := synth.FragmentIP(synth.IPv6(tc.next, make([]byte, 2048)), 1024, uint32(100000+i))[0]
			pkts = append(pkts, defragPkt{0, first})
		}
		pkts = append(pkts, defragPkt{0, f6[1]}, defragPkt{0, f6[2]})
		tcp, st := defragRun(pkts)
		if len(tcp) != tc.tcp || st.FragmentsLost < flood-defragMaxBytes/1024 {
			t.Errorf("next header %d: %d TCP datagrams reassembled, want %d; %d fragments lost", tc.next, len(tcp), tc.tcp, st.FragmentsLost)
		}
	}
}
