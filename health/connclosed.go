package health

import (
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// closedWindow: a connect the server closed (its FIN) before any byte is
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
