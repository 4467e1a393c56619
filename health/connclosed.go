package health

import (
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// closedWindow: a connect the server closed (its FIN, or its RST) before any byte is
// an attempt that failed (OutcomeConnClosed) when the FIN came at most
// this long after it. A client that tries sends its request at once, so
// the server's FIN comes before it only when the server closes at once;
// one later closed a connection its client left idle (a browser's
// preconnect, a pool's spare socket, closed by a proxy's request
// timeout, seconds on): no attempt.
const closedWindow = time.Second

// closedAtOnce reports whether a connect the server closed before any
// byte (wsparse.ConnectClosed) was closed within closedWindow of its
// start: an attempt that failed, as a listener with nothing behind it (a
// proxy whose backend is down) makes.
func closedAtOnce(s *wsparse.Summary) bool {
	return s.TCPEndTS[wsparse.ServerToClient].Sub(s.First) <= closedWindow
}

// closedOutcome is the outcome of a connect the server closed (its FIN,
// wsparse.ConnectClosed: OutcomeConnClosed) or reset (its RST,
// wsparse.ConnectReset: OutcomeConnReset) before any byte; ok is false
// when it did so later than closedWindow (closedAtOnce: its first RST,
// else its FIN), no attempt.
func closedOutcome(s *wsparse.Summary) (string, bool) {
	if !closedAtOnce(s) {
		return "", false
	}
	if s.Connect == wsparse.ConnectReset {
		return OutcomeConnReset, true
	}
	return OutcomeConnClosed, true
}
