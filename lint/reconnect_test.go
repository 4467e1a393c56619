package lint

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
)

// TestReconnectRules: reconnect-storm (WS707) and reconnect-not-recovered
// (WS708) from health's reconnect groups (health.Group in, findings out):
// a storm as health marks it, attempts after the last WebSocket that got
// none, a group that never got one, and the groups that give none: a
// recovered loop, a WebSocket still open at the end, a lone failed
// attempt, bare TCP connects.
func TestReconnectRules(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	att := func(conn int, start, end float64, outcome string) health.Attempt {
		return health.Attempt{Conn: conn, Start: at(start), End: at(end), Outcome: outcome}
	}
	retry := func(a health.Attempt) health.Attempt { a.Retry = true; return a }
	flying := func(a health.Attempt) health.Attempt { a.InFlight = true; return a }
	group := func(g health.Group, as ...health.Attempt) *health.Group {
		g.ClientIP, g.Host = netip.MustParseAddr("10.0.0.7"), "app.example:80"
		if g.Path == "-" {
			g.Path, g.Host, g.Server = "", "", netip.MustParseAddrPort("10.0.0.9:8080")
		} else if g.Path == "" {
			g.Path = "/stomp"
		}
		g.Attempts = as
		return &g
	}
	cases := []struct {
		name string
		g    *health.Group
		want []string // "RULE conn TS: detail"
	}{
		{"storm: health's verdict, its counts and backoff, from its first retry", group(health.Group{Storm: true, MaxInWindow: 6, Refused: 3, Errors: 2, Backoff: "exponential"},
			att(1, 0, 0.1, health.OutcomeRefused), retry(att(2, 0.2, 0.3, health.OutcomeRefused)), retry(att(3, 0.5, 0.6, health.OutcomeRefused)),
			retry(att(4, 1, 1.1, health.OutcomeError)), retry(att(5, 2, 2.1, health.OutcomeError)), retry(att(6, 3.6, 9, health.OutcomeOK))),
			[]string{"WS707 2 0.2: app.example:80/stomp from 10.0.0.7: 6 attempts of its retry loop within 10.0s, 6 in all (3 refused, 0 failed, 2 ended in error), backoff exponential"}},
		{"storm with a fixed backoff", group(health.Group{Storm: true, MaxInWindow: 5, Failed: 4, Backoff: "fixed", BackoffInterval: 2 * time.Second},
			att(1, 0, 1, health.OutcomeError), att(2, 3, 3, health.OutcomeTimeout), att(3, 5, 5, health.OutcomeTimeout),
			att(4, 7, 7, health.OutcomeTimeout), att(5, 9, 9, health.OutcomeTimeout), att(6, 11, 20, health.OutcomeOpen)),
			[]string{"WS707 1 0: app.example:80/stomp from 10.0.0.7: 5 attempts of its retry loop within 10.0s, 6 in all (0 refused, 4 failed, 0 ended in error), backoff fixed 2.0s"}},
		{"not a storm (health says so), recovered", group(health.Group{MaxInWindow: 6, Refused: 5, Errors: 1},
			att(2, 0, 83, health.OutcomeError), att(3, 86, 86, health.OutcomeConnRefused), att(4, 89, 89, health.OutcomeConnRefused),
			att(9, 101, 146, health.OutcomeOK)), nil},
		{"refused after the last WebSocket, up to the end", group(health.Group{Refused: 3, Failed: 1, Errors: 1, DownAtEnd: 9 * time.Second},
			att(2, 0, 53, health.OutcomeError), att(3, 56, 56, health.OutcomeConnRefused), att(4, 59, 59, health.OutcomeConnRefused),
			att(5, 60, 62, health.OutcomeHTTPTimeout), att(6, 62, 62, health.OutcomeConnRefused)),
			[]string{"WS708 3 56: app.example:80/stomp from 10.0.0.7: 4 attempts after the last WebSocket (conn 2) got none (3 refused, 1 failed), the last ending 9.0s after it ended"}},
		{"a storm that did not recover: both", group(health.Group{Storm: true, MaxInWindow: 5, Refused: 5, DownAtEnd: 5 * time.Second},
			att(1, 0, 1, health.OutcomeOK), att(2, 1, 1.1, health.OutcomeRefused), att(3, 2, 2.1, health.OutcomeRefused),
			att(4, 3, 3.1, health.OutcomeRefused), att(5, 4, 4.1, health.OutcomeRefused), att(7, 6, 6, health.OutcomeRefused)),
			[]string{"WS707 1 0: app.example:80/stomp from 10.0.0.7: 5 attempts of its retry loop within 10.0s, 6 in all (5 refused, 0 failed, 0 ended in error)",
				"WS708 2 1: app.example:80/stomp from 10.0.0.7: 5 attempts after the last WebSocket (conn 1) got none (5 refused, 0 failed), the last ending 5.0s after it ended"}},
		{"none ever got a WebSocket", group(health.Group{Refused: 2, Failed: 1},
			att(11, 0, 0.1, health.OutcomeRefused), att(12, 3, 3.1, health.OutcomeRefused), att(13, 6, 6, health.OutcomeNoResponse)),
			[]string{"WS708 11 0: app.example:80/stomp from 10.0.0.7: 3 attempts, none got a WebSocket (2 refused, 1 failed)"}},
		{"none got one, the rest past the bound on connects kept", group(health.Group{Refused: 40, Unlisted: 39},
			att(11, 0, 0.1, health.OutcomeConnRefused)),
			[]string{"WS708 11 0: app.example:80/stomp from 10.0.0.7: 40 attempts, none got a WebSocket (40 refused, 0 failed)"}},
		{"a lone refused upgrade: no reconnect (WS201 says it)", group(health.Group{Refused: 1},
			att(1, 0, 0.1, health.OutcomeRefused)), nil},
		{"a WebSocket open at the end, an attempt after its last packet (a rotation cut)", group(health.Group{Failed: 1, DownAtEnd: 71 * time.Microsecond},
			att(29, 0, 1, health.OutcomeOpen), att(30, 0.5, 1.1, health.OutcomeOpen), att(31, 1.2, 1.2, health.OutcomeNoResponse)), nil},
		{"the last attempt failed while a WebSocket was up (health: not down at end)", group(health.Group{Failed: 1},
			att(1, 0, 10, health.OutcomeOK), att(2, 5, 6, health.OutcomeNoResponse)), nil},
		{"bare TCP connects, no URL, all refused: never connected, not a storm (nothing says WebSocket)", group(health.Group{Path: "-", Storm: true, MaxInWindow: 9, Refused: 9, Unlisted: 7},
			att(1, 0, 0, health.OutcomeConnRefused), att(2, 1, 1, health.OutcomeConnRefused)),
			[]string{"WS709 1 0: 10.0.0.9:8080 from 10.0.0.7: 9 TCP connects in 1.0s, none accepted (9 refused, 0 unanswered): the client never reached its server"}},
		{"bare TCP connects, refused and unanswered, the last in flight", group(health.Group{Path: "-", Refused: 1, Failed: 1, InFlight: 1},
			att(4, 0, 0, health.OutcomeConnRefused), att(5, 3, 4, health.OutcomeTimeout), flying(att(6, 6, 7, health.OutcomeTimeout))),
			[]string{"WS709 4 0: 10.0.0.9:8080 from 10.0.0.7: 2 TCP connects in 4.0s, none accepted (1 refused, 1 unanswered): the client never reached its server, 1 more in flight at the capture's end"}},
		{"bare TCP connects: one refused, one in flight: no reconnect yet", group(health.Group{Path: "-", Refused: 1, InFlight: 1},
			att(4, 0, 0, health.OutcomeConnRefused), flying(att(5, 3, 4, health.OutcomeTimeout))), nil},
		{"a lone bare TCP connect refused", group(health.Group{Path: "-", Refused: 1},
			att(4, 0, 0, health.OutcomeConnRefused)), nil},
		{"bare TCP connects and a WebSocket without a handshake (caught mid-stream)", group(health.Group{Path: "-", Refused: 2},
			att(4, 0, 0, health.OutcomeConnRefused), att(5, 1, 1, health.OutcomeConnRefused), att(6, 2, 9, health.OutcomeOpen)), nil},
		{"bare TCP connects refused after a connection without a handshake ended", group(health.Group{Path: "-", Refused: 2},
			att(3, 0, 0.5, health.OutcomeError), att(4, 1, 1, health.OutcomeConnRefused), att(5, 2, 2, health.OutcomeConnRefused)), nil},
		{"after the last WebSocket: one attempt, in flight at the capture's end (a capture cut): no verdict", group(health.Group{Errors: 1, InFlight: 1},
			att(2, 0, 1, health.OutcomeError), retry(flying(att(1, 2.1, 2.1, health.OutcomeHTTPOnly)))), nil},
		{"after the last WebSocket: refused ones, then one in flight: those counted", group(health.Group{Errors: 1, Refused: 2, InFlight: 1, DownAtEnd: 6 * time.Second},
			att(2, 0, 1, health.OutcomeError), att(3, 4, 4, health.OutcomeConnRefused), att(4, 7, 7, health.OutcomeConnRefused), flying(att(5, 10, 10, health.OutcomeTimeout))),
			[]string{"WS708 3 4: app.example:80/stomp from 10.0.0.7: 2 attempts after the last WebSocket (conn 2) got none (2 refused, 0 failed), the last ending 6.0s after it ended, 1 more in flight at the capture's end"}},
		{"none got one: a refused, then one in flight: no reconnect yet", group(health.Group{Refused: 1, InFlight: 1},
			att(11, 0, 0.1, health.OutcomeRefused), flying(att(12, 3, 3.1, health.OutcomeNoResponse))), nil},
		{"none got one: two refused, then one in flight", group(health.Group{Refused: 2, InFlight: 1},
			att(11, 0, 0.1, health.OutcomeRefused), att(12, 3, 3.1, health.OutcomeRefused), flying(att(13, 6, 6, health.OutcomeNoResponse))),
			[]string{"WS708 11 0: app.example:80/stomp from 10.0.0.7: 2 attempts, none got a WebSocket (2 refused, 0 failed), 1 more in flight at the capture's end"}},
		{"healthy", group(health.Group{}, att(1, 0, 30, health.OutcomeOK)), nil},
		{"escaped URL", group(health.Group{Path: "/a\x1b[31m", Refused: 2},
			att(1, 0, 0.1, health.OutcomeRefused), att(2, 1, 1.1, health.OutcomeRefused)),
			[]string{`WS708 1 0: app.example:80/a\x1b[31m from 10.0.0.7: 2 attempts, none got a WebSocket (2 refused, 0 failed)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := New()
			l.Reconnect(c.g, 10*time.Second)
			var got []string
			for _, f := range l.Findings() {
				if f.Record != "connection" || f.Rule.Severity != Warning {
					t.Errorf("%s: record %s, severity %s", f.Rule.ID, f.Record, f.Rule.Severity)
				}
				got = append(got, f.Rule.ID+" "+strconv.Itoa(f.Conn)+" "+strconv.FormatFloat(f.TS.Sub(t0).Seconds(), 'g', -1, 64)+": "+f.Detail)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got\n%q\nwant\n%q", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("got\n%s\nwant\n%s", got[i], c.want[i])
				}
			}
		})
	}
}
