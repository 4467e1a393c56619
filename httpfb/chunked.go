package httpfb

// Chunks decodes a chunked body (RFC 9112 §7.1) fed in pieces.
type Chunks struct {
	state  uint8 // 0 size line, 1 data, 2 CRLF after data, 3 trailers, 4 done, 5 broken
	left   int64 // data bytes left in the chunk
	size   int64
	digits int
	ext    bool // inside chunk extensions
	line   int  // bytes of the current line seen (size line, CRLF after data)
	empty  bool // the current trailer line is empty so far
}

// Next consumes bytes of b up to the end of the next piece of chunk data
// (or of the body) and returns how many, the data piece (aliasing b),
// whether the body ended and whether its framing broke (Broken tells how
// many of the consumed bytes were the line that broke it).
func (c *Chunks) Next(b []byte) (n int, data []byte, done, broken bool) {
	for n < len(b) && c.state < 4 {
		ch := b[n]
		switch c.state {
		case 0: // hex size, optional extensions, CRLF
			n++
			c.line++
			switch {
			case c.line > 4096:
				c.state = 5
			case ch == '\n':
				switch {
				case c.digits == 0:
					c.state = 5
				case c.size == 0:
					c.state, c.empty = 3, true
				default:
					c.state, c.left = 1, c.size
				}
				c.line, c.digits, c.size, c.ext = 0, 0, 0, false
			case c.ext || ch == '\r':
			case ch == ';' || ch == ' ' || ch == '\t':
				c.ext = true
			case isHex(ch) && c.digits < 15:
				c.size = c.size<<4 | int64(unhex(ch))
				c.digits++
			default:
				c.state = 5
			}
		case 1:
			k := int(min(int64(len(b)-n), c.left))
			data = b[n : n+k]
			n += k
			if c.left -= int64(k); c.left == 0 {
				c.state = 2
			}
			return n, data, false, false
		case 2:
			n++
			c.line++
			if ch == '\n' {
				c.state, c.line = 0, 0
			} else if ch != '\r' {
				c.state = 5
			}
		case 3: // trailer fields until an empty line
			n++
			switch ch {
			case '\n':
				if c.empty {
					c.state = 4
				}
				c.empty = true
			case '\r':
			default:
				c.empty = false
			}
		}
	}
	return n, nil, c.state == 4, c.state == 5
}

// Broken returns, once Next reported the framing broken, how many bytes
// the line that broke it had (consumed by Next, in this piece or earlier
// ones): not decoded.
func (c *Chunks) Broken() int {
	if c.state != 5 {
		return 0
	}
	return c.line
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
