package lint

import (
	"strconv"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/wsparse"
)

// minTail is the fewest pings in a row, the last ones, a peer must leave
// unanswered for ping-unanswered, counting only the ones it had time to
// answer (health.PingStats.OverdueTail): one ping crossing a Close, or
// pings sent just before the capture or the connection ended, are no
// peer that stopped answering.
const minTail = 2

// Health lints a connection's health verdicts (the health package's
// Report, made once its records are all in): a negotiated heart-beat
// that missed beats or never came, WebSocket pings the peer stopped
// answering, Engine.IO heartbeats that stopped on a WebSocket, a series
// sent by two timers or more, and the missed beats of a series whose
// interval the user declared (--heartbeat-interval). The missed beats
// of a series whose interval was only inferred (application pings,
// SockJS "h" frames, texts) are not linted: their verdict is a guess.
func (l *Linter) Health(c *health.Conn) {
	var pings [2]*health.Series
	for _, s := range c.Heartbeats {
		if s.Kind == health.KindWSPing {
			pings[s.Dir&1] = s
		}
	}
	for d := range c.Ping {
		p := &c.Ping[d]
		if p.OverdueTail < minTail {
			continue // pings sent just before the end were owed no pong yet
		}
		f := Finding{Rule: rule("ping-unanswered"), Conn: c.ID, EncapID: wsparse.EncapID(c.Encap), Dir: wsparse.Dir(d).String(), Record: "connection", TS: p.UnansweredSince}
		f.Detail = strconv.Itoa(p.UnansweredTail) + " of " + strconv.Itoa(p.Pings) + " pings by the " + side(wsparse.Dir(d)) + " unanswered"
		s := pings[d&1]
		switch {
		case p.Answered > 0:
			if !c.Start.IsZero() && !p.UnansweredSince.Before(c.Start) {
				f.Detail += " since " + text.Dur(p.UnansweredSince.Sub(c.Start)) + " into the connection"
			}
			f.Detail = "the last " + f.Detail + ": the " + side(wsparse.Dir(1-d)) + " stopped answering"
		case s != nil:
			f.Detail += ": the " + side(wsparse.Dir(1-d)) + " answered none in " + text.Dur(s.Last.Sub(s.First))
			f.TS = s.First // the first ping, also past the ones remembered unanswered
		default:
			f.Detail += ": the " + side(wsparse.Dir(1-d)) + " answered none"
		}
		l.push(f)
	}
	for _, s := range c.Heartbeats {
		l.appHealth(c, s)
		if s.IntervalSource != "negotiated" || s.Missed == 0 {
			continue
		}
		var name, label string
		switch s.Kind {
		case "stomp":
			name, label = "stomp-heartbeat-missed", "stomp heart-beat "+s.Dir.String()+" "+text.Dur(s.Interval)
			if s.Count == 0 {
				name = "stomp-heartbeat-never-sent"
			}
		case "engineio":
			if c.Transport != "" {
				continue // an HTTP fallback session: its polls are linted (WS603)
			}
			name, label = "engineio-heartbeat-missed", "engineio "+s.Dir.String()+" "+text.Dur(s.Interval)
		default:
			continue
		}
		f := Finding{Rule: rule(name), Conn: c.ID, EncapID: wsparse.EncapID(c.Encap), Dir: s.Dir.String(), Record: "connection", TS: s.MaxGapAt, Detail: label + ": " + missed(s)}
		if len(s.Gaps) > 0 {
			f.TS = s.Gaps[0].From // where the beats first went missing
		}
		l.push(f)
	}
}

// missed says how a series missed its beats, as the conns view does:
// "18 missed (max gap 36.3s, none in the last 36.3s, open at capture
// end)", "5 missed (none in 55.0s since negotiated)".
func missed(s *health.Series) string {
	open := ""
	n := len(s.Gaps)
	if n > 0 && s.Gaps[n-1].Open {
		open = ", open at capture end"
	}
	m := strconv.Itoa(s.Missed) + " missed ("
	switch {
	case s.Count == 0:
		m += "none in " + text.Dur(s.MaxGap) + " since negotiated"
	case n > 0 && s.Gaps[n-1].Trailing && !s.GapsTruncated:
		m += "max gap " + text.Dur(s.MaxGap) + ", none in the last " + text.Dur(s.Gaps[n-1].Len())
	default:
		m += "max gap " + text.Dur(s.MaxGap)
	}
	if s.Kind == "engineio" && s.Timeout > 0 && s.MaxGap > s.Timeout {
		m += ", over pingInterval + pingTimeout " + text.Dur(s.Timeout)
	}
	return m + open + ")"
}

// appHealth lints what the rules on any series judge: two timers or more
// sending its beats (heartbeat-timers-doubled), and its missed beats
// when the user declared its interval (heartbeat-missed: health's
// IntervalSource "flag", which --heartbeat-interval gives WebSocket
// pings and pongs and --heartbeat-text's texts; a negotiated interval is
// the protocol rules').
func (l *Linter) appHealth(c *health.Conn, s *health.Series) {
	if s.Timers > 1 {
		offs := ""
		for i, o := range s.TimerOffsets {
			if i > 0 {
				offs += ", "
			}
			offs += text.Dur(o)
		}
		f := Finding{Rule: rule("heartbeat-timers-doubled"), Conn: c.ID, EncapID: wsparse.EncapID(c.Encap), Dir: s.Dir.String(), Record: "connection", TS: s.First,
			Detail: seriesLabel(s) + " " + text.Dur(s.Interval) + ": " + strconv.Itoa(s.Timers) + " timers (offset " + offs + "), " +
				strconv.Itoa(s.Count) + " beats in " + text.Dur(s.Last.Sub(s.First)) + ": " + strconv.Itoa(s.Timers) + " beats each period on one connection"}
		l.push(f)
	}
	if s.Missed == 0 || s.IntervalSource != "flag" && !l.declaredApp(s) {
		return
	}
	if s.Kind == health.KindWSPong && c.Ping[1-s.Dir&1].Pings > 0 {
		return // pongs that answer pings: ping-unanswered judges them
	}
	f := Finding{Rule: rule("heartbeat-missed"), Conn: c.ID, EncapID: wsparse.EncapID(c.Encap), Dir: s.Dir.String(), Record: "connection", TS: s.MaxGapAt,
		Detail: seriesLabel(s) + " " + text.Dur(s.Interval) + " (--heartbeat-interval): " + missed(s)}
	if len(s.Gaps) > 0 {
		f.TS = s.Gaps[0].From
	}
	l.push(f)
}

// seriesLabel names a series as the conns view does, with its
// direction: "stomp SEND ping c2s", "text s2c", "ws-ping c2s".
func seriesLabel(s *health.Series) string {
	switch s.Kind {
	case health.KindApp:
		return s.Proto + " " + string(text.AppendEscaped(nil, []byte(s.Key), 60, true)) + " " + s.Dir.String()
	case "stomp":
		return "stomp heart-beat " + s.Dir.String()
	case "sockjs":
		return "sockjs h " + s.Dir.String()
	}
	return s.Kind + " " + s.Dir.String()
}

// DeclareInterval says the heartbeat interval the user declared
// (--heartbeat-interval; 0: none). health applies it to WebSocket pings
// and pongs and --heartbeat-text's texts (IntervalSource "flag"), not to
// the application heartbeats it finds by itself (the seed's stomp SEND
// ping): their interval is their own, as several of one connection may
// keep different ones. Those whose own period is the declared one
// (declaredApp) have their missed beats linted all the same: the user
// who declared a 10 s heartbeat expects heartbeat-missed of the 10 s
// STOMP ping that stopped, which conns shows "3 missed".
func (l *Linter) DeclareInterval(d time.Duration) { l.declared = d }

// declaredApp reports whether s is an application heartbeat found by
// itself whose observed period is the declared interval within a
// twentieth (health's maxAppJitter: what an application timer keeps to).
func (l *Linter) declaredApp(s *health.Series) bool {
	return l.declared > 0 && s.Kind == health.KindApp && s.IntervalSource == "observed" &&
		20*(s.Interval-l.declared).Abs() <= l.declared
}
