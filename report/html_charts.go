package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/wsparse"
)

// The HTML report's charts: the reconnect timeline, the heartbeats, the
// message rate and the ping round trips (html.go builds the view).
// timeline draws a lane per reconnect group: its connections as bars
// coloured by outcome (in sub-rows where they overlap), refused and
// unanswered connects as crosses, the HTTP requests before an upgrade
// (SockJS /info) as diamonds, the outages shaded, a line joining them.
func (v *htmlView) timeline(r *health.Report, byID map[int]*health.Conn, ax timeAxis) {
	ch := &v.Timeline
	y := 24.0
	bars, marks, lanes := 0, 0, 0
	drawn := map[int]bool{}
	for gi, g := range r.Groups {
		if lanes == htmlMaxLanes {
			v.Notes = append(v.Notes, fmt.Sprintf("Timeline: %d of %d reconnect groups drawn.", lanes, len(r.Groups)))
			break
		}
		lanes++
		// Sub-rows: an attempt goes to the first row free at its start.
		var rowEnd []time.Time
		rowOf := make([]int, len(g.Attempts))
		for i, a := range g.Attempts {
			row := -1
			for j, e := range rowEnd {
				if !e.After(a.Start) {
					row = j
					break
				}
			}
			if row < 0 {
				if len(rowEnd) < htmlMaxRows {
					rowEnd = append(rowEnd, time.Time{})
				}
				row = len(rowEnd) - 1 // past the cap, the last row's bars overlap
			}
			rowOf[i] = row
			if a.End.After(rowEnd[row]) {
				rowEnd[row] = a.End
			}
		}
		rows := max(1, len(rowEnd))
		rowH := laneH
		if rows > 6 {
			rowH = laneH / 2 // many at once: thinner bars, no labels
		}
		h := float64(rows) * rowH
		url := g.Host + g.Path
		if url == "" {
			url = g.Server.String()
		}
		label := fmt.Sprintf("%d %s %s", gi+1, g.ClientIP, url)
		if g.Encap() != "" {
			label = fmt.Sprintf("%d %s %s %s", gi+1, g.ClientIP, g.Encap(), url) // two tenants' lanes told apart
		}
		ch.Rows = append(ch.Rows, rowLabel{X: 8, Y: y + 11, Text: htmlText(label, 46), Class: "lane"})
		if n := len(g.Attempts); n > 0 {
			first, last := g.Attempts[0].Start, g.Attempts[0].End
			for _, a := range g.Attempts {
				if a.End.After(last) {
					last = a.End
				}
			}
			ch.Lines = append(ch.Lines, shape{Class: "join", X: ax.x(first), Y: y + rowH/2, X2: ax.x(last), Y2: y + rowH/2})
		}
		// Outages: from the last good connection's end to the good one a
		// retry opened, and down at the end.
		var lastGood time.Time
		for _, a := range g.Attempts {
			if a.HasOutage {
				from := a.Start.Add(-a.Outage)
				ch.Rects = append(ch.Rects, shape{Class: "outage", X: ax.x(from), Y: y - 2, W: math.Max(1, ax.x(a.Start)-ax.x(from)), H: h + 4,
					Title: "outage " + Dur(a.Outage) + " before connection " + strconv.Itoa(a.Conn)})
			}
			if !a.Failed() && a.End.After(lastGood) {
				lastGood = a.End
			}
		}
		if g.DownAtEnd > 0 && !lastGood.IsZero() {
			to := lastGood.Add(g.DownAtEnd)
			ch.Rects = append(ch.Rects, shape{Class: "outage", X: ax.x(lastGood), Y: y - 2, W: math.Max(1, ax.x(to)-ax.x(lastGood)), H: h + 4,
				Title: "down " + Dur(g.DownAtEnd) + " at the end of the capture"})
		}
		for i, a := range g.Attempts {
			ry := y + float64(rowOf[i])*rowH
			for _, via := range a.Via {
				if marks < htmlMaxMarks {
					marks++
					ch.Marks = append(ch.Marks, shape{Class: "mark info", X: ax.x(a.Start), Y: ry + rowH/2, Conn: strconv.Itoa(via),
						Title: fmt.Sprintf("connection %d: HTTP request before the upgrade of %d, at %s", via, a.Conn, ax.rel(a.Start))})
				}
			}
			c := byID[a.Conn]
			if c == nil || a.Outcome == health.OutcomeHTTPOnly || a.Outcome == health.OutcomeHTTPError || a.Outcome == health.OutcomeHTTPTimeout ||
				a.Outcome == health.OutcomeConnRefused || a.Outcome == health.OutcomeTimeout || a.Outcome == health.OutcomeConnClosed || a.Outcome == health.OutcomeConnReset {
				if marks < htmlMaxMarks {
					marks++
					class, what := "mark refused", "TCP connect refused (RST)"
					switch a.Outcome {
					case health.OutcomeTimeout:
						class, what = "mark timeout", "TCP connect never answered"
					case health.OutcomeConnClosed:
						what = "TCP connect accepted, then closed by the server (FIN) before any byte"
					case health.OutcomeConnReset:
						what = "TCP connect accepted, then reset by the server (RST) before any byte"
					case health.OutcomeHTTPOnly, health.OutcomeHTTPError, health.OutcomeHTTPTimeout:
						class, what = "mark info", "HTTP request before an upgrade: "+attemptOutcome(a)
					}
					if a.InFlight {
						what = inFlightWhat(a)
					}
					ch.Marks = append(ch.Marks, shape{Class: class, X: ax.x(a.Start), Y: ry + rowH/2, Conn: strconv.Itoa(a.Conn), InFlight: a.InFlight,
						Title: fmt.Sprintf("connection %d: %s, at %s", a.Conn, what, ax.rel(a.Start))})
				}
				continue
			}
			if bars == htmlMaxBars {
				continue
			}
			bars++
			drawn[c.ID] = true
			x0, x1 := ax.x(c.Start), ax.x(c.Until())
			out := health.OutcomeOpen
			if a.Outcome != "" {
				out = a.Outcome
			}
			what := out
			if a.InFlight {
				what += " " + inFlightText
			}
			ch.Rects = append(ch.Rects, shape{Class: "conn", X: x0, Y: ry + 1, W: math.Max(2, x1-x0), H: rowH - 2, Fill: outcomeColor[out],
				ID: wsparse.ConnLabel(c.ID), Kind: out, InFlight: a.InFlight,
				Title: htmlText(fmt.Sprintf("connection %s %s%s: %s, %s from %s; %s", wsparse.ConnLabel(c.ID), c.Host, c.URI, what, Dur(c.Duration()), ax.rel(c.Start), CloseText(c)), 400)})
			if x1-x0 > 8+6*float64(len(wsparse.ConnLabel(c.ID))) && rowH == laneH {
				ch.Labels = append(ch.Labels, rowLabel{X: x0 + 3, Y: ry + laneH - 4, Text: wsparse.ConnLabel(c.ID), Class: "barlabel"})
			}
		}
		y += h + 8
	}
	if len(r.Groups) == 0 {
		ch.Empty = true
	}
	if len(drawn) < len(r.Conns) {
		v.Notes = append(v.Notes, fmt.Sprintf("Timeline: %d of %d connections drawn.", len(drawn), len(r.Conns)))
	}
	if marks == htmlMaxMarks {
		v.Notes = append(v.Notes, fmt.Sprintf("Timeline: the first %d refused connects and requests drawn.", marks))
	}
	ch.H = y + 4
}

// heartbeats draws each connection's heartbeat series on the time axis:
// a row per series (direction, kind, key, interval), its beats as dots
// coloured by the timer that sent them, its late gaps shaded with the
// missed beats crossed.
func (v *htmlView) heartbeats(r *health.Report, beatsOf func(int, *health.Series) ([]time.Time, []int), ax timeAxis) {
	ch := &v.Heartbeats
	y := 8.0
	series, beats, total := 0, 0, 0
	notDrawn := 0
	for _, c := range r.Conns {
		if len(c.Heartbeats) == 0 {
			continue
		}
		if series == htmlMaxSeries {
			total += len(c.Heartbeats)
			continue
		}
		ch.Labels = append(ch.Labels, rowLabel{X: 8, Y: y + 12, Class: "connhead",
			Text: htmlText(fmt.Sprintf("connection %s  %s → %s  %s%s", wsparse.ConnLabel(c.ID), c.Client, c.Server, c.Host, c.URI), 160)})
		y += 18
		for _, s := range c.Heartbeats {
			total++
			if series == htmlMaxSeries {
				continue
			}
			series++
			label := s.Dir.String() + " " + seriesName(s)
			status := text.Plural(s.Count, "beat")
			if s.Interval > 0 {
				status += ", " + Dur(s.Interval) + " " + s.IntervalSource
			}
			if s.Missed > 0 {
				status += fmt.Sprintf(", %d missed, gap %s", s.Missed, Dur(s.MaxGap))
			}
			if s.Timers > 1 {
				status += fmt.Sprintf(", %d timers", s.Timers)
			}
			if s.ClockSteps > 0 {
				status += fmt.Sprintf(", clock stepped back ×%d", s.ClockSteps)
			}
			cy := y + 14
			ch.Rows = append(ch.Rows, rowLabel{X: 8, Y: y + 10, Text: htmlText(label, 44), Class: "series"},
				rowLabel{X: 8, Y: y + 22, Text: htmlText(status, 0), Class: "status"})
			ch.Lines = append(ch.Lines, shape{Class: "span", X: ax.x(c.Start), Y: cy, X2: ax.x(c.Until()), Y2: cy})
			for _, g := range s.Gaps {
				ch.Rects = append(ch.Rects, shape{Class: "gap", X: ax.x(g.From), Y: cy - laneH/2, W: math.Max(1, ax.x(g.To)-ax.x(g.From)), H: laneH,
					Title: fmt.Sprintf("late: %s without a beat from %s, %d missed%s", Dur(g.Len()), ax.rel(g.From), g.Missed, gapOpen(g))})
				if s.Interval > 0 {
					for k := 1; k <= g.Missed && k <= htmlMaxMissed; k++ {
						t := g.From.Add(time.Duration(k) * s.Interval)
						if t.After(g.To) {
							break
						}
						ch.Marks = append(ch.Marks, shape{Class: "missed", X: ax.x(t), Y: cy, Title: "missed beat due at " + ax.rel(t)})
					}
				}
			}
			if beatsOf != nil {
				ts, timer := beatsOf(c.ID, s)
				for i, t := range ts {
					if beats == htmlMaxBeats {
						notDrawn += len(ts) - i
						break
					}
					beats++
					fill, tn := timerColor[0], 0
					if timer != nil {
						tn = timer[i]
						if tn < 0 {
							fill = "#999999"
						} else {
							fill = timerColor[tn%len(timerColor)]
						}
					}
					title := "beat at " + ax.rel(t)
					if timer != nil {
						if tn < 0 {
							title += ", on no timer's rhythm"
						} else {
							title += ", timer " + strconv.Itoa(tn+1)
						}
					}
					ch.Dots = append(ch.Dots, shape{Class: "beat", X: ax.x(t), Y: cy, R: 3, Fill: fill, Conn: wsparse.ConnLabel(c.ID), Title: title})
				}
			}
			y += 30
		}
		y += 6
	}
	if total > series {
		v.Notes = append(v.Notes, fmt.Sprintf("Heartbeats: %d of %d series drawn.", series, total))
	}
	if notDrawn > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("Heartbeats: the first %d beats drawn, %d more not.", beats, notDrawn))
	}
	ch.Empty = series == 0
	ch.H = y + 4
}

// seriesName names a heartbeat series as wsdump conns does.
func seriesName(s *health.Series) string {
	switch s.Kind {
	case health.KindApp:
		return s.Proto + " " + s.Key
	case "stomp":
		return "stomp heart-beat"
	case "sockjs":
		return "sockjs h"
	}
	return s.Kind
}

// messages draws the message rate (client to server up, server to client
// down) and the mean and largest message size per time bin.
func (v *htmlView) messages(buckets []Bucket, bw time.Duration, ax timeAxis) {
	rate, size := &v.Rate, &v.Size
	if len(buckets) == 0 {
		rate.Empty, size.Empty = true, true
		return
	}
	// Bins of at least the collector's width, at most htmlBins over the axis.
	w := max(bw, time.Duration(float64(ax.span)/htmlBins))
	type bin struct {
		n     [2]int
		bytes [2]uint64
		max   [2]uint64
	}
	var keys []int64
	bins := map[int64]*bin{}
	for _, b := range buckets {
		k := int64(b.Start.Sub(ax.origin) / w)
		x := bins[k]
		if x == nil {
			x = &bin{}
			bins[k] = x
			keys = append(keys, k)
		}
		for d := range 2 {
			x.n[d] += b.Messages[d]
			x.bytes[d] += b.Bytes[d]
			x.max[d] = max(x.max[d], b.Max[d])
		}
	}
	perSec := float64(time.Second) / float64(w)
	peak, maxSize := 0.0, uint64(1)
	for _, x := range bins {
		for d := range 2 {
			peak = math.Max(peak, float64(x.n[d])*perSec)
			maxSize = max(maxSize, x.max[d])
		}
	}
	v.RateNote = "bins of " + Dur(w) + "; peak " + fmtRate(peak) + " messages/s"
	const half = 60.0
	rate.H = 2*half + 20
	mid := half + 10
	rate.Lines = append(rate.Lines, shape{Class: "axis", X: plotX0, Y: mid, X2: plotX1, Y2: mid})
	rate.Rows = append(rate.Rows, rowLabel{X: 8, Y: mid - half/2, Text: "client → server", Class: "series"},
		rowLabel{X: 8, Y: mid + half/2, Text: "server → client", Class: "series"})
	rate.YTicks = append(rate.YTicks, rowLabel{X: plotX0 - 4, Y: mid - half + 4, Text: fmtRate(peak) + "/s", Anchor: "end"},
		rowLabel{X: plotX0 - 4, Y: mid + half, Text: fmtRate(peak) + "/s", Anchor: "end"})
	pw := math.Max(1.5, (ax.x(ax.origin.Add(w))-ax.x(ax.origin))*0.9)
	// Size on a log scale from 1 byte to the largest message.
	size.H = 2*half + 20
	logMax := math.Log10(float64(maxSize)) + 0.1
	sy := func(b float64) float64 { return 10 + 2*half*(1-math.Log10(math.Max(1, b))/logMax) }
	for _, p := range []float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8} {
		if p > float64(maxSize)*1.2 {
			break
		}
		size.YTicks = append(size.YTicks, rowLabel{X: plotX0 - 4, Y: sy(p) + 4, Text: byteSize(p), Anchor: "end"})
		size.Lines = append(size.Lines, shape{Class: "grid", X: plotX0, Y: sy(p), X2: plotX1, Y2: sy(p)})
	}
	size.Rows = append(size.Rows, rowLabel{X: 8, Y: 24, Text: "● mean ┃ largest", Class: "series"})
	for _, k := range keys {
		x := bins[k]
		t := ax.origin.Add(time.Duration(k) * w)
		px := ax.x(t)
		for d := range 2 {
			if x.n[d] == 0 {
				continue
			}
			hgt := half * float64(x.n[d]) * perSec / peak
			y := mid - hgt
			if d == 1 {
				y = mid
			}
			title := fmt.Sprintf("%s from %s: %d messages, %d bytes", wsparse.Dir(d), ax.rel(t), x.n[d], x.bytes[d])
			rate.Rects = append(rate.Rects, shape{Class: "rate", X: px, Y: y, W: pw, H: math.Max(1, hgt), Fill: dirColor[d], Title: title})
			mean := float64(x.bytes[d]) / float64(x.n[d])
			size.Lines = append(size.Lines, shape{Class: "max", X: px + pw/2, Y: sy(mean), X2: px + pw/2, Y2: sy(float64(x.max[d])), Fill: dirColor[d]})
			size.Dots = append(size.Dots, shape{Class: "size", X: px + pw/2, Y: sy(mean), R: 2.5, Fill: dirColor[d],
				Title: fmt.Sprintf("%s from %s: mean %.0f bytes, largest %d", wsparse.Dir(d), ax.rel(t), mean, x.max[d])})
		}
	}
}

// fmtRate writes a rate with 3 significant digits, without exponent.
func fmtRate(r float64) string {
	if r >= 100 {
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strconv.FormatFloat(r, 'g', 3, 64)
}

func byteSize(b float64) string {
	switch {
	case b >= 1e6:
		return strconv.FormatFloat(b/1e6, 'f', 0, 64) + " MB"
	case b >= 1e3:
		return strconv.FormatFloat(b/1e3, 'f', 0, 64) + " kB"
	}
	return strconv.FormatFloat(b, 'f', 0, 64) + " B"
}

// rtt draws each ping's round trip, by the pinging side.
func (v *htmlView) rtt(a *Activity, ax timeAxis) {
	ch := &v.RTT
	if len(a.RTTs) == 0 {
		ch.Empty = true
		return
	}
	var top time.Duration
	for _, p := range a.RTTs {
		top = max(top, p.RTT)
	}
	top = max(top, time.Millisecond)
	const h = 120.0
	ch.H = h + 20
	y := func(d time.Duration) float64 { return 10 + h*(1-float64(d)/float64(top)) }
	for _, f := range []float64{0, 0.5, 1} {
		d := time.Duration(f * float64(top))
		ch.YTicks = append(ch.YTicks, rowLabel{X: plotX0 - 4, Y: y(d) + 4, Text: Dur(d), Anchor: "end"})
		ch.Lines = append(ch.Lines, shape{Class: "grid", X: plotX0, Y: y(d), X2: plotX1, Y2: y(d)})
	}
	ch.Rows = append(ch.Rows, rowLabel{X: 8, Y: 24, Text: "pings from the client", Class: "series c2s"},
		rowLabel{X: 8, Y: 42, Text: "pings from the server", Class: "series s2c"})
	for _, p := range a.RTTs {
		ch.Dots = append(ch.Dots, shape{Class: "rtt", X: ax.x(p.TS), Y: y(p.RTT), R: 2.5, Fill: dirColor[p.Dir&1],
			Title: fmt.Sprintf("connection %d: pong at %s after %s", p.Conn, ax.rel(p.TS), Dur(p.RTT))})
	}
	v.RTTNote = text.Plural(len(a.RTTs), "ping") + " answered"
	if a.RTTsDropped > 0 {
		v.RTTNote += fmt.Sprintf("; the first %d drawn, %d more not", len(a.RTTs), a.RTTsDropped)
	}
}

// gapOpen is ", open at capture end" for a gap to the capture's end, its
// connection still open then (health.Gap.Open).
func gapOpen(g health.Gap) string {
	if g.Open {
		return ", open at capture end"
	}
	return ""
}

// inFlightText says that an attempt was in flight when the capture ended
// (health.Attempt.InFlight), as conns says `in flight`: neither failed
// nor good.
const inFlightText = "in flight at the capture's end (neither failed nor good)"

// inFlightWhat is the mark's text of an attempt in flight that has no bar
// (a connect, an HTTP request before an upgrade).
func inFlightWhat(a health.Attempt) string {
	switch a.Outcome {
	case health.OutcomeTimeout:
		return "TCP connect not answered yet, " + inFlightText
	case health.OutcomeHTTPOnly, health.OutcomeHTTPError, health.OutcomeHTTPTimeout:
		return "HTTP request before an upgrade: " + attemptOutcome(a) + ", " + inFlightText
	}
	return attemptOutcome(a) + ", " + inFlightText
}
