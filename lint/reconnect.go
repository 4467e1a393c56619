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
	if g.Path == "" || len(g.Attempts) == 0 {
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
		if n := len(g.Attempts) + g.Unlisted; n >= 2 { // a lone attempt is no reconnect
			at = first
			d = where + ": " + strconv.Itoa(n) + " attempts, none got a WebSocket (" + counts(g.Refused, g.Failed, -1) + ")"
		}
	case g.DownAtEnd > 0 && !open:
		// health's verdict: after the last good connection ended only
		// failed attempts came (the attempts after it, all failed). An
		// open connection's end is its last packet, not the capture's:
		// an attempt after it (a file of a rotation cut before its 101)
		// leaves the client with a WebSocket.
		after := g.Attempts[worked+1:]
		refused, failed := 0, 0
		for _, a := range after {
			if a.Refused() {
				refused++
			} else {
				failed++
			}
		}
		at = &after[0]
		d = where + ": " + strconv.Itoa(len(after)) + " attempts after the last WebSocket (conn " + strconv.Itoa(g.Attempts[worked].Conn) +
			") got none (" + counts(refused, failed, -1) + "), the last ending " + text.Dur(g.DownAtEnd) + " after it ended"
	}
	if at != nil {
		l.push(Finding{Rule: rule("reconnect-not-recovered"), Conn: at.Conn, EncapID: tenant, Record: "connection", TS: at.Start, Detail: d})
	}
}

// counts says "3 refused, 2 failed, 1 error" (errors < 0: not said).
func counts(refused, failed, errors int) string {
	s := strconv.Itoa(refused) + " refused, " + strconv.Itoa(failed) + " failed"
	if errors >= 0 {
		s += ", " + strconv.Itoa(errors) + " ended in error"
	}
	return s
}
