package wsparse

// The HTTP exchange of a connection: the requests awaiting answers, kept
// until the upgrade.

import (
	"strings"
	"sync"
)

// httpExchange is the HTTP request/response state of a connection.
type httpExchange struct {
	reqs   []string    // methods of requests awaiting responses, oldest first
	cutReq *httpHead   // a cut request that did not show an upgrade (its Upgrade field may be past the cut)
	held   *heldAnswer // a 101 that came before any byte of its request (answer_first.go)
	hold   holdState

	// Config.EndAll: the first requests, how many came after them, and
	// how many responses were matched to them.
	log      []HTTPRequest
	more     int
	answered int
}

// exchangePool holds the exchange states of connections that upgraded:
// with their request queues, they are reused rather than made for every
// connection.
var exchangePool = sync.Pool{New: func() any { return new(httpExchange) }}

// exchange returns the connection's HTTP exchange state, made at the first
// head.
func (c *Conn) exchange() *httpExchange {
	if c.ex == nil {
		c.ex = exchangePool.Get().(*httpExchange)
	}
	return c.ex
}

// dropExchange gives the exchange state of a connection that upgraded
// back: its request queue is reused, its request log (which a summary
// may hold) is not.
func (c *Conn) dropExchange() {
	ex := c.ex
	c.ex = nil
	clear(ex.reqs)
	*ex = httpExchange{reqs: ex.reqs[:0]}
	exchangePool.Put(ex)
}

// methodName returns the method of a request for the queue: the known
// ones as constants, the rest copied (not a piece of the whole head).
func methodName(m string) string {
	for _, k := range httpMethods {
		if m == k {
			return k
		}
	}
	return strings.Clone(m)
}
