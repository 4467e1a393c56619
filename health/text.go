package health

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Glance sums up a connection's heartbeat health in a few words: "ok",
// "-" (no heartbeat seen), or its problems joined by "; ", e.g.
// "no pong for 4 pings; text s2c: 5 missed (max gap 6.0s)".
func (c *Conn) Glance() string {
	var problems []string
	pingDirs := 0
	for d := range c.Ping {
		if c.Ping[d].Pings > 0 {
			pingDirs++
		}
	}
	for d := range c.Ping {
		p := &c.Ping[d]
		if p.Unanswered == 0 {
			continue
		}
		prefix := ""
		if pingDirs > 1 {
			prefix = wsparse.Dir(d).String() + " "
		}
		if p.UnansweredTail == p.Unanswered {
			problems = append(problems, fmt.Sprintf("%sno pong for %d %s", prefix, p.Unanswered, plural(p.Unanswered, "ping")))
		} else {
			problems = append(problems, fmt.Sprintf("%s%d of %d pings unanswered", prefix, p.Unanswered, p.Pings))
		}
	}
	for _, s := range c.Heartbeats {
		if s.Missed == 0 {
			continue
		}
		if s.Kind == KindWSPong && c.Ping[1-s.Dir].Unanswered > 0 {
			continue // already said as unanswered pings
		}
		problems = append(problems, fmt.Sprintf("%s %s: %d missed (max gap %s)", s.Kind, s.Dir, s.Missed, Dur(s.MaxGap)))
	}
	switch {
	case len(problems) > 0:
		return strings.Join(problems, "; ")
	case len(c.Heartbeats) > 0:
		return "ok"
	}
	return "-"
}

// Healthy reports whether the heartbeats that flowed were all on time and
// every ping was answered.
func (c *Conn) Healthy() bool { g := c.Glance(); return g == "ok" || g == "-" }

// CloseText says how a connection ended in a few words, e.g.
// `client 4000 "heartbeat timeout", clean` or "RST from server, no Close".
func (c *Conn) CloseText() string {
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
		b.WriteString("RST from " + tcpSides(cl.TCPRst) + ", no Close")
	case wsparse.EndFINWithoutClose:
		b.WriteString("FIN from " + tcpSides(cl.TCPFin) + ", no Close")
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
	return b.String()
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

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Dur formats a duration briefly: "31.2s", "450ms", "1.25ms", "80µs".
func Dur(d time.Duration) string {
	switch a := d.Abs(); {
	case a >= 100*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 0, 64) + "s"
	case a >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case a >= 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 0, 64) + "ms"
	case a >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
}
