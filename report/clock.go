package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/reassembly"
)

// writeClockJumps writes a notice for each jump of the capture's clock
// (reassembly.Clock: a step back, or a forward jump far past the
// capture's gaps), naming the packet, its time and the jump's size.
func writeClockJumps(w io.Writer, c *reassembly.Clock) {
	for _, j := range c.Jumps {
		where := "packet " + strconv.FormatInt(j.Packet, 10) + " (" + clockTime(j.At)
		if j.File != "" {
			where += ", in " + escapeAll(j.File)
		}
		where += ")"
		if j.By > 0 {
			fmt.Fprintf(w, "wsdump: the capture's clock jumped forward %s at %s, where its gaps had been at most %s: a clock set wrong, or captures of hosts whose clocks disagree merged\n",
				clockSpan(j.By), where, clockSpan(j.Gap))
		} else {
			fmt.Fprintf(w, "wsdump: the capture's clock stepped back %s at %s: an NTP step, a clock set wrong, or captures merged whose clocks disagree\n",
				clockSpan(-j.By), where)
		}
	}
	if c.JumpsMore > 0 {
		fmt.Fprintf(w, "wsdump: the capture's clock jumped %d more times\n", c.JumpsMore)
	}
}

// WriteClockEnd says, when the capture's clock jumped, to which end a
// connection still open at the end of the input was judged: the end of
// the run of packets on one clock that holds its last packet (runs, the
// credible ones), not the last packet's time; and which runs were too
// short to be believed.
func WriteClockEnd(w io.Writer, c *reassembly.Clock, runs []reassembly.ClockRun) {
	if c == nil || len(c.Runs) <= 1 || len(runs) == 0 {
		return
	}
	var b strings.Builder
	for i, r := range runs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (packets %d-%d)", clockTime(r.End), r.From, r.From+r.Packets-1)
	}
	var short []string
	for _, r := range c.Runs {
		if !containsRun(runs, r) {
			short = append(short, clockRunPackets(r))
		}
	}
	fmt.Fprintf(w, "wsdump: the capture's clock jumped: a connection still open at its end is judged to the end of its run of packets on one clock, not to the last packet's time (%s): %s",
		clockTime(c.Last), b.String())
	if len(short) > 0 {
		fmt.Fprintf(w, "; taken for a clock error, too short a run: %s", strings.Join(short, ", "))
	}
	fmt.Fprintln(w)
}

func containsRun(runs []reassembly.ClockRun, r reassembly.ClockRun) bool {
	for _, x := range runs {
		if x.From == r.From {
			return true
		}
	}
	return false
}

func clockRunPackets(r reassembly.ClockRun) string {
	if r.Packets == 1 {
		return "packet " + strconv.FormatInt(r.From, 10)
	}
	return fmt.Sprintf("packets %d-%d", r.From, r.From+r.Packets-1)
}

// clockTime is a packet's time in a clock notice: UTC, microseconds.
func clockTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// clockSpan is a jump's size: days past a day (time.Duration says
// 8760h0m0s for a year).
func clockSpan(d time.Duration) string {
	if d >= 24*time.Hour {
		days := d / (24 * time.Hour)
		return strconv.FormatInt(int64(days), 10) + "d" + (d - days*24*time.Hour).String()
	}
	return d.String()
}
