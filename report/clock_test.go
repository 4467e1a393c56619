package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/reassembly"
)

// TestClockNotices: the jump notices name the packet, its time, its file
// and the jump's size; the end notice lists at most 6 runs of each kind,
// then how many more (a capture keeps up to 64).
func TestClockNotices(t *testing.T) {
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	c := &reassembly.Clock{Last: t0.Add(time.Hour),
		Jumps: []reassembly.ClockJump{
			{Packet: 7, At: t0.Add(400 * 24 * time.Hour), By: 400*24*time.Hour + time.Second, Gap: 3 * time.Second, File: "b\x1b.pcap"},
			{Packet: 8, At: t0, By: -90 * time.Minute}},
		JumpsMore: 2, ShortMore: 5}
	for i := range 10 {
		c.Runs = append(c.Runs, reassembly.ClockRun{From: int64(1 + 10*i), Last: int64(10 + 10*i), Packets: 10, End: t0.Add(time.Duration(i) * time.Minute), Judged: i != 3})
	}
	var b bytes.Buffer
	writeClockJumps(&b, c)
	WriteClockEnd(&b, c)
	for _, want := range []string{
		"wsdump: the capture's clock jumped forward 400d1s at packet 7 (2025-06-10T07:08:09.000000Z, in b\\x1b.pcap), where its gaps had been at most 3s:",
		"wsdump: the capture's clock stepped back 1h30m0s at packet 8 (2024-05-06T07:08:09.000000Z):",
		"wsdump: the capture's clock jumped 2 more times\n",
		"(2024-05-06T08:08:09.000000Z): 2024-05-06T07:08:09.000000Z (packets 1-10), 2024-05-06T07:09:09.000000Z (packets 11-20), 2024-05-06T07:10:09.000000Z (packets 21-30), 2024-05-06T07:12:09.000000Z (packets 41-50), 2024-05-06T07:13:09.000000Z (packets 51-60), 2024-05-06T07:14:09.000000Z (packets 61-70), 3 more; taken for a clock error, too short a run: packets 31-40, 5 more\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
	b.Reset()
	writeClockJumps(&b, &reassembly.Clock{JumpsMore: 1})
	if want := "wsdump: the capture's clock jumped 1 more time\n"; b.String() != want {
		t.Errorf("one more jump: %q, want %q", b.String(), want)
	}
	if j := string(appendClockJSON(nil, c)); !strings.HasSuffix(j, `"open_judged_to_end":true}`+"\n"+`{"type":"clock_run","more":5,"open_judged_to_end":false}`+"\n") {
		t.Errorf("jsonl ends\n%s", j[max(0, len(j)-300):])
	}
	// No run believed (three clocks taking turns): said, to the last
	// packet's time (until a hostile review, nothing).
	b.Reset()
	short := append([]reassembly.ClockRun(nil), c.Runs...)
	for i := range short {
		short[i].Judged, short[i].Packets = false, 1
	}
	WriteClockEnd(&b, &reassembly.Clock{Runs: short, Last: t0, ShortMore: 5})
	if want := "wsdump: the capture's clock jumped back and forth with no run of 4 packets or more on one clock (15 runs: clocks that disagree interleaved packet by packet, as a pcapng's interfaces or merged captures): a connection still open at its end is judged to the last packet's time (2024-05-06T07:08:09.000000Z), its beats missed and silence at the end counted across the clocks' difference\n"; b.String() != want {
		t.Errorf("no run judged: %q, want %q", b.String(), want)
	}
	b.Reset()
	WriteClockEnd(&b, &reassembly.Clock{Runs: c.Runs[:1], Last: t0})
	if b.Len() != 0 {
		t.Errorf("one run: %q, want nothing", b.String())
	}
}
