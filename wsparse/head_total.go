package wsparse

// The bytes of unfinished HTTP heads, all the connections of a Shared
// together (Config.MaxHTTPHeaderTotal): each side holds up to
// MaxHTTPHeader of a head until its blank line, and a capture of many
// connections whose heads never end held that times their number.

// DefaultMaxHTTPHeaderTotal is the default of Config.MaxHTTPHeaderTotal:
// 1 024 heads of MaxHTTPHeader held at once (512 for each of two -j
// workers, which divide it). A real head is a few KiB and ends within its
// segment or the next.
const DefaultMaxHTTPHeaderTotal = 64 << 20

// headLimit is how long the head a side holds start bytes of may grow
// before the heads of all connections pass the total: what the others
// hold taken away (at least start: what it holds stays counted).
func (c *Conn) headLimit(h *half, start int) int {
	return max(start, c.cfg.MaxHTTPHeaderTotal-(c.headHeld-h.head))
}

// countHead brings a side's unfinished head in the total up to date,
// after its bytes went through the HTTP decoder: the capacity of what it
// holds while it reads heads, none otherwise (pending bytes count in
// MaxPendingTotal).
func (c *Conn) countHead(h *half) {
	if h.httpHalf == nil {
		return
	}
	n := 0
	if h.mode == modeHTTP {
		n = cap(h.buf)
	}
	c.headHeld += n - h.head
	h.head, h.headIn = n, &c.headHeld
}

// unhead gives the side's head bytes back to the total they count in.
func (h *half) unhead() {
	if h.head > 0 {
		*h.headIn -= h.head
		h.head, h.headIn = 0, nil
	}
}
