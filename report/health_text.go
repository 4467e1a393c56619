package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/wsparse"
)

// Glance sums up a health.Conn's heartbeats in a few words: one item per
// series, joined by "; ", naming what beats (kind, key, direction when it
// could be either), its interval and how it went, e.g.
// "stomp SEND ping 10.0s ok", "ws-ping 1.0s 4 unanswered",
// "text s2c 1.0s 4 missed (max gap 5.0s)",
// "stomp SEND ping 10.0s ok, 2 timers (offset 1.1s)"; "-" when no
// heartbeat was seen. Application heartbeats (found or named by
// --heartbeat-text) come first, then pings, then the protocols' own beats.
func Glance(c *health.Conn) string {
	pinged := [2]bool{c.Ping[0].Pings > 0, c.Ping[1].Pings > 0}
	appDirs := map[string]int{}
	for _, s := range c.Heartbeats {
		if s.Kind == health.KindApp {
			appDirs[s.Proto+" "+s.Key]++
		}
	}
	var items []string
	for pass := range 3 {
		for _, s := range c.Heartbeats {
			p := 2
			switch s.Kind {
			case health.KindApp, health.KindText:
				p = 0
			case health.KindWSPing:
				p = 1
			case health.KindWSPong:
				if pinged[1-s.Dir] {
					continue // told with the pings it answers
				}
			}
			if p != pass {
				continue
			}
			var label string
			switch s.Kind {
			case health.KindApp:
				label = s.Proto + " " + s.Key
				if appDirs[s.Proto+" "+s.Key] > 1 {
					label += " " + s.Dir.String()
				}
			case health.KindWSPing:
				label = "ws-ping"
				if pinged[0] && pinged[1] {
					label += " " + s.Dir.String()
				}
			case "stomp":
				label = "stomp heart-beat " + s.Dir.String()
			case "sockjs":
				label = "sockjs h" // only servers send them
			default:
				label = s.Kind + " " + s.Dir.String()
			}
			items = append(items, label+" "+seriesStatus(c, s))
		}
	}
	if len(items) == 0 {
		return "-"
	}
	return strings.Join(items, "; ")
}

// seriesStatus is a series' interval and how it went: "10.0s ok",
// "1.0s 4 missed (max gap 5.0s)", "2 beats" (too few for an interval).
func seriesStatus(c *health.Conn, s *health.Series) string {
	var parts []string
	if s.Interval > 0 {
		parts = append(parts, Dur(s.Interval))
	} else {
		parts = append(parts, text.Plural(s.Count, "beat"))
	}
	ok := true
	if s.Kind == health.KindWSPing {
		if p := &c.Ping[s.Dir]; p.Unanswered > 0 {
			ok = false
			if p.UnansweredTail == p.Unanswered {
				parts = append(parts, strconv.Itoa(p.Unanswered)+" unanswered")
			} else {
				parts = append(parts, fmt.Sprintf("%d of %d unanswered", p.Unanswered, p.Pings))
			}
		}
	}
	switch {
	case s.Count == 0 && s.Interval > 0 && s.Missed > 0:
		// Promised (negotiated) and never sent.
		ok = false
		parts = append(parts, fmt.Sprintf("%d missed (none in %s since negotiated%s)", s.Missed, Dur(s.MaxGap), openAtEnd(s)))
	case s.Count == 0 && s.Interval > 0:
		ok = false // not "ok": no beat came, frames kept the direction alive
		parts = append(parts, "no beat, other frames on time")
	case s.Missed > 0:
		ok = false
		if n := len(s.Gaps); n > 0 && s.Gaps[n-1].Trailing && !s.GapsTruncated {
			// The beats stopped before the end: since when.
			parts = append(parts, fmt.Sprintf("%d missed (max gap %s, none in the last %s%s)", s.Missed, Dur(s.MaxGap), Dur(s.Gaps[n-1].Len()), openAtEnd(s)))
		} else {
			parts = append(parts, fmt.Sprintf("%d missed (max gap %s)", s.Missed, Dur(s.MaxGap)))
		}
	}
	if s.ClockSteps > 0 {
		ok = false
		parts = append(parts, "clock stepped back")
		if s.ClockSteps > 1 {
			parts[len(parts)-1] += " ×" + strconv.Itoa(s.ClockSteps)
		}
	}
	st := strings.Join(parts, " ")
	if ok && s.Interval > 0 {
		st += " ok"
	}
	if s.Timers > 1 {
		offs := make([]string, len(s.TimerOffsets))
		for i, o := range s.TimerOffsets {
			offs[i] = Dur(o)
		}
		st += fmt.Sprintf(", %d timers (offset %s)", s.Timers, strings.Join(offs, ", "))
	}
	return st
}

// CloseText says how a connection ended in a few words, e.g.
// `client 4000 "heartbeat timeout", clean` or "RST from server, no Close".
func CloseText(c *health.Conn) string {
	cl := &c.Close
	switch {
	case c.Upgraded():
	case c.Status == 0:
		return "upgrade unanswered"
	default:
		return "refused " + strconv.Itoa(c.Status)
	}
	var b strings.Builder
	if f := cl.First(); f != nil {
		b.WriteString(cl.Initiator)
		if f.HasCode {
			b.WriteString(" " + strconv.Itoa(int(f.Code)))
			if f.Name != "" {
				b.WriteString(" (" + f.Name + ")")
			}
			if f.Reason != "" {
				b.WriteString(" " + strconv.Quote(f.Reason))
			}
		} else {
			b.WriteString(" close, no code")
		}
	}
	sep := func() {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
	}
	switch cl.End {
	case wsparse.EndClean:
		sep()
		b.WriteString("clean")
	case wsparse.EndCloseUnanswered:
		sep()
		b.WriteString("never answered")
	case wsparse.EndRSTWithoutClose:
		b.WriteString("RST from " + tcpOrder(cl.TCPRst, cl.TCPFirst) + ", no Close")
	case wsparse.EndFINWithoutClose:
		b.WriteString("FIN from " + tcpOrder(cl.TCPFin, cl.TCPFirst) + ", no Close")
	case wsparse.EndOpen:
		sep()
		b.WriteString("open at end of capture")
	}
	if cl.End == wsparse.EndClean || cl.End == wsparse.EndCloseUnanswered {
		if cl.TCPRst[0] || cl.TCPRst[1] {
			b.WriteString(", then RST from " + tcpSides(cl.TCPRst))
		}
	}
	if cl.DataAfterClose {
		b.WriteString(", data after Close")
	}
	if cl.StreamEnd != "" {
		b.WriteString(" (" + cl.StreamEnd + ")")
	}
	if cl.App != nil {
		b.WriteString(", after " + escapeAll(cl.App.Text)) // from the traffic
	}
	if cl.TLSStopped != "" {
		b.WriteString(", tls decryption stopped: " + escapeAll(cl.TLSStopped)) // a client random, a record's bytes
	}
	return b.String()
}

// tcpOrder is tcpSides, with who ended first when both did and their
// ends differ in time: "server first, then client" (a server that went
// away), not "both".
func tcpOrder(v, first [2]bool) string {
	if v[0] && v[1] {
		switch {
		case first[wsparse.ServerToClient]:
			return "server first, then client"
		case first[wsparse.ClientToServer]:
			return "client first, then server"
		}
	}
	return tcpSides(v)
}

func tcpSides(v [2]bool) string {
	switch {
	case v[0] && v[1]:
		return "both"
	case v[0]:
		return "client"
	}
	return "server"
}

// Dur formats a duration briefly: "31.2s", "450ms", "1.25ms", "80µs"
// (text.Dur, which lint writes too).
func Dur(d time.Duration) string { return text.Dur(d) }

// openAtEnd is ", open at capture end" when the series' last gap runs to
// the capture's end, its connection still open then (health.Gap.Open).
func openAtEnd(s *health.Series) string {
	if n := len(s.Gaps); n > 0 && s.Gaps[n-1].Open {
		return ", open at capture end"
	}
	return ""
}
