package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/reassembly"

	"github.com/wsdump/wsdump/internal/text"
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
			fmt.Fprintf(w, "wsdump: the capture's clock jumped forward %s at %s, where its gaps had been at most %s: a clock set wrong, captures of hosts whose clocks disagree merged, or a capture that saw nothing that long (stopped and started again, or a network gone silent: beats missed in it are not counted)\n",
				clockSpan(j.By), where, clockSpan(j.Gap))
		} else {
			fmt.Fprintf(w, "wsdump: the capture's clock stepped back %s at %s: an NTP step, a clock set wrong, or captures merged whose clocks disagree\n",
				clockSpan(-j.By), where)
		}
	}
	if c.JumpsMore > 0 {
		fmt.Fprintf(w, "wsdump: the capture's clock jumped %s\n", text.Plural(c.JumpsMore, "more time"))
	}
}

// WriteClockEnd says, when the capture's clock jumped, to which end a
// connection still open at the end of the input was judged: the end of
// the run of packets on one clock that holds its last packet (the runs
// Judged), not the last packet's time; and which runs were too short to
// be believed.
func WriteClockEnd(w io.Writer, c *reassembly.Clock) {
	if c == nil || len(c.Runs) <= 1 {
		return
	}
	var judged, short []string
	for _, r := range c.Runs {
		if r.Judged {
			judged = append(judged, fmt.Sprintf("%s (packets %d-%d)", clockTime(r.End), r.From, r.Last))
		} else {
			short = append(short, clockRunPackets(r))
		}
	}
	if len(judged) == 0 {
		// No run long enough to believe (clocks interleaved packet by
		// packet): said, not left silent (until a hostile review three
		// clocks taking turns made a healthy connection's pings
		// '35928 missed' without a word).
		fmt.Fprintf(w, "wsdump: the capture's clock jumped back and forth with no run of %d packets or more on one clock (%d runs: clocks that disagree interleaved packet by packet, as a pcapng's interfaces or merged captures): a connection still open at its end is judged to the last packet's time (%s), its beats missed and silence at the end counted across the clocks' difference\n",
			reassembly.ClockRunCredible, int64(len(c.Runs))+c.ShortMore, clockTime(c.Last))
		return
	}
	judged, short = listed(judged, 0), listed(short, c.ShortMore)
	fmt.Fprintf(w, "wsdump: the capture's clock jumped: a connection still open at its end is judged to the end of its run of packets on one clock, not to the last packet's time (%s): %s",
		clockTime(c.Last), strings.Join(judged, ", "))
	if len(short) > 0 {
		fmt.Fprintf(w, "; taken for a clock error, too short a run: %s", strings.Join(short, ", "))
	}
	fmt.Fprintln(w)
}

// appendClockJSON appends conns' capture-level records when the clock
// jumped: a "clock_jump" per jump listed, then a "clock_run" per run
// kept, and one with how many more were too short to keep.
func appendClockJSON(b []byte, c *reassembly.Clock) []byte {
	if c == nil || len(c.Runs) <= 1 {
		return b
	}
	for _, j := range c.Jumps {
		b = append(b, `{"type":"clock_jump","packet":`...)
		b = strconv.AppendInt(b, j.Packet, 10)
		b = jtsField(b, "ts", j.At)
		b = appendSecs(field(b, "jump"), j.By)
		if j.By > 0 {
			b = appendSecs(field(b, "largest_gap_before"), j.Gap)
		}
		if j.File != "" {
			b = appendJSON(field(b, "file"), j.File, jsonNoHTML)
		}
		b = append(b, "}\n"...)
	}
	if c.JumpsMore > 0 {
		b = append(b, `{"type":"clock_jump","more":`...)
		b = strconv.AppendInt(b, int64(c.JumpsMore), 10)
		b = append(b, "}\n"...)
	}
	for _, r := range c.Runs {
		b = append(b, `{"type":"clock_run","from_packet":`...)
		b = strconv.AppendInt(b, r.From, 10)
		b = strconv.AppendInt(field(b, "last_packet"), r.Last, 10)
		b = strconv.AppendInt(field(b, "packets"), r.Packets, 10)
		b = jtsField(b, "first_ts", r.Lo)
		b = jtsField(b, "last_ts", r.Hi)
		b = jtsField(b, "end_ts", r.End)
		b = append(field(b, "open_judged_to_end"), strconv.FormatBool(r.Judged)...)
		b = append(b, "}\n"...)
	}
	if c.ShortMore > 0 {
		// Runs too short to be believed, not kept (reassembly.Clock).
		b = append(b, `{"type":"clock_run","more":`...)
		b = strconv.AppendInt(b, c.ShortMore, 10)
		b = append(b, `,"open_judged_to_end":false}`+"\n"...)
	}
	return b
}

// maxRunsListed bounds the runs a notice names (64 are kept).
const maxRunsListed = 6

// listed is l, past maxRunsListed the first of them, and how many more
// with the more not kept.
func listed(l []string, more int64) []string {
	if len(l) > maxRunsListed {
		more += int64(len(l) - maxRunsListed)
		l = l[:maxRunsListed:maxRunsListed]
	}
	if more > 0 {
		l = append(l, strconv.FormatInt(more, 10)+" more")
	}
	return l
}

func clockRunPackets(r reassembly.ClockRun) string {
	if r.Last == r.From {
		return "packet " + strconv.FormatInt(r.From, 10)
	}
	return fmt.Sprintf("packets %d-%d", r.From, r.Last)
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
