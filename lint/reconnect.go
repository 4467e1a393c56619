package lint

import (
	"strconv"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/wsparse"
)

// Reconnect lints a reconnect group of the health package's Report (the
// groups `wsdump conns` lists, judged with its --storm-attempts and
// --storm-window, window the latter): a storm (Group.Storm), and a client that did not get
// a WebSocket again up to the capture's end. An attempt that got a
// WebSocket is one health does not count as failed (health.Attempt.Failed:
// upgraded with 101, or 2xx over HTTP/2, and then ok, error or still
// open), the good connection its outage and DownAtEnd count from; a 101
// closed at once is still one, and a group with a WebSocket still open
// at the capture's end has one. A group of TCP connects with no HTTP
// request (no URL: Path "") is no known WebSocket client's and is not
// linted. Each finding is on a connection of the group: a storm on its
// first retry (health.Attempt.Retry), a group not recovered on its first
// attempt that failed after the last WebSocket (or on its first, when
// none worked). A group of a tenant says it after WHERE as a
// connection's finding does (`in vxlan:20`; jsonl encap): the tenant's
// words (health.Group.Encap), which tell two tenants' groups on one
// client IP, Host and URL apart.
func (l *Linter) Reconnect(g *health.Group, window time.Duration) {
	if len(g.Attempts) == 0 {
		return
	}
	if g.Path == "" {
		l.neverConnected(g)
		return
	}
	where := string(text.AppendEscaped(nil, []byte(g.Host+g.Path), 80, true)) + " from " + g.ClientIP.String()
	first := &g.Attempts[0]
	tenant := wsparse.EncapID(g.Encap())
	if g.Storm {
		at := first // the loop's first retry: where the storm starts
		for i := range g.Attempts {
			if g.Attempts[i].Retry {
				at = &g.Attempts[i]
				break
			}
		}
		d := where + ": " + strconv.Itoa(g.MaxInWindow) + " attempts of its retry loop within " + text.Dur(window) +
			", " + strconv.Itoa(len(g.Attempts)+g.Unlisted) + " in all (" + counts(g.Refused, g.Failed, g.Errors) + ")"
		if g.Backoff != "" {
			d += ", backoff " + g.Backoff
			if g.BackoffInterval > 0 {
				d += " " + text.Dur(g.BackoffInterval)
			}
		}
		l.push(Finding{Rule: rule("reconnect-storm"), Conn: at.Conn, EncapID: tenant, Record: "connection", TS: at.Start, Detail: d})
	}
	worked := -1  // the last attempt that got a WebSocket
	open := false // a WebSocket still open at the capture's end: the client has one
	for i := range g.Attempts {
		if !g.Attempts[i].Failed() {
			worked = i
		}
		open = open || g.Attempts[i].Outcome == health.OutcomeOpen
	}
	var d string
	var at *health.Attempt
	switch {
	case worked < 0:
		// Attempts in flight at the capture's end are not counted: a
		// capture cut is no evidence they failed.
		if n := len(g.Attempts) + g.Unlisted - g.InFlight; n >= 2 { // a lone attempt is no reconnect
			at = firstDone(g.Attempts)
			d = where + ": " + strconv.Itoa(n) + " attempts, none got a WebSocket (" + counts(g.Refused, g.Failed, -1) + ")" + inFlight(g.InFlight)
		}
	case g.DownAtEnd > 0 && !open:
		// health's verdict: after the last good connection ended only
		// failed attempts came (the attempts after it, all failed). An
		// open connection's end is its last packet, not the capture's:
		// an attempt after it (a file of a rotation cut before its 101)
		// leaves the client with a WebSocket.
		// Those in flight at the capture's end are not counted (health
		// counts them in neither DownAtEnd nor Failed).
		after := g.Attempts[worked+1:]
		refused, failed, flying := 0, 0, 0
		for i := range after {
			switch a := &after[i]; {
			case a.InFlight:
				flying++
			case a.Refused():
				refused++
			default:
				failed++
			}
			if at == nil && !after[i].InFlight {
				at = &after[i]
			}
		}
		d = where + ": " + strconv.Itoa(refused+failed) + " attempts after the last WebSocket (conn " + strconv.Itoa(g.Attempts[worked].Conn) +
			") got none (" + counts(refused, failed, -1) + "), the last ending " + text.Dur(g.DownAtEnd) + " after it ended" + inFlight(flying)
	}
	if at != nil {
		l.push(Finding{Rule: rule("reconnect-not-recovered"), Conn: at.Conn, EncapID: tenant, Record: "connection", TS: at.Start, Detail: d})
	}
}

// firstDone is the first attempt not in flight at the capture's end.
func firstDone(as []health.Attempt) *health.Attempt {
	for i := range as {
		if !as[i].InFlight {
			return &as[i]
		}
	}
	return &as[0]
}

// inFlight says ", 1 more in flight at the capture's end" (n 0: nothing).
func inFlight(n int) string {
	if n == 0 {
		return ""
	}
	return ", " + strconv.Itoa(n) + " more in flight at the capture's end"
}

// neverConnected lints a group of bare TCP connects (no URL: health
// groups them by client IP and server) none of which got further than
// the connect: a client whose server was down, or not listening, from
// the capture's start (its retry loop's connects refused, SYN answered
// by RST, or never answered, or accepted and closed by the server at
// once, before any byte: a listener with nothing behind it), which never
// reached HTTP. Two connects or more, in
// flight at the capture's end not counted; a connection without a
// handshake in the group (a WebSocket caught mid-stream) or one that
// got further (an HTTP request) makes it none.
func (l *Linter) neverConnected(g *health.Group) {
	refused, unanswered, closed, reset := 0, 0, 0, 0
	for i := range g.Attempts {
		a := &g.Attempts[i]
		switch {
		case a.InFlight:
		case a.Outcome == health.OutcomeConnRefused:
			refused++
		case a.Outcome == health.OutcomeTimeout:
			unanswered++
		case a.Outcome == health.OutcomeConnClosed:
			closed++
		case a.Outcome == health.OutcomeConnReset:
			reset++
		default:
			return // it got further than a connect
		}
	}
	// Connects past the tracker's bound (Unlisted) are refused or
	// unanswered ones: health keeps no other kind there, and counts its
	// refused ones in Refused.
	moreRefused := min(max(g.Refused-refused, 0), g.Unlisted)
	refused, unanswered = refused+moreRefused, unanswered+g.Unlisted-moreRefused
	n := refused + unanswered + closed + reset
	if n < 2 {
		return
	}
	at := firstDone(g.Attempts)
	var last time.Time // the end of the last connect not in flight
	for i := range g.Attempts {
		if a := &g.Attempts[i]; !a.InFlight && a.End.After(last) {
			last = a.End
		}
	}
	d := g.Server.String() + " from " + g.ClientIP.String() + ": " + strconv.Itoa(n) + " TCP connects in " + text.Dur(last.Sub(at.Start)) +
		", none accepted (" + strconv.Itoa(refused) + " refused, " + strconv.Itoa(unanswered) + " unanswered): the client never reached its server" + inFlight(g.InFlight)
	if closed > 0 || reset > 0 {
		// Accepted by TCP, closed (FIN) or reset (RST) at once: no byte
		// went either way.
		how := strconv.Itoa(closed) + " closed by the server before any byte"
		if reset > 0 {
			how = strconv.Itoa(reset) + " reset by the server before any byte"
			if closed > 0 {
				how = strconv.Itoa(closed) + " closed and " + how
			}
		}
		d = g.Server.String() + " from " + g.ClientIP.String() + ": " + strconv.Itoa(n) + " TCP connects in " + text.Dur(last.Sub(at.Start)) +
			", none got further than the connect (" + strconv.Itoa(refused) + " refused, " + strconv.Itoa(unanswered) + " unanswered, " +
			how + "): the client never reached its server" + inFlight(g.InFlight)
	}
	l.push(Finding{Rule: rule("reconnect-never-connected"), Conn: at.Conn, EncapID: wsparse.EncapID(g.Encap()), Record: "connection", TS: at.Start, Detail: d})
}

// counts says "3 refused, 2 failed, 1 error" (errors < 0: not said).
func counts(refused, failed, errors int) string {
	s := strconv.Itoa(refused) + " refused, " + strconv.Itoa(failed) + " failed"
	if errors >= 0 {
		s += ", " + strconv.Itoa(errors) + " ended in error"
	}
	return s
}
