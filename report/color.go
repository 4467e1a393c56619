package report

import (
	"bytes"
	"regexp"
)

// ANSI colours, kept to three: one per direction and red for anomalies.
const (
	ColorC2S     = "\x1b[36m" // cyan
	ColorS2C     = "\x1b[33m" // yellow
	ColorAnomaly = "\x1b[31m" // red
	ColorReset   = "\x1b[0m"
)

// DirColor returns the colour of a direction's name ("c2s", "s2c").
func DirColor(dir string) string {
	if dir == "c2s" {
		return ColorC2S
	}
	return ColorS2C
}

// colorizer colours a rendered table line: the DIR cell and the anomaly
// list that ends a row (" !name,name"). It works on the finished line, so
// the column widths tablewriter computes are not disturbed by escapes;
// payloads are escaped before they get here, so no colour can come from
// the traffic.
type colorizer struct {
	dirCol int // byte offset of the DIR column, from the header line; -1 before it
}

func newColorizer(Options) *colorizer { return &colorizer{dirCol: -1} }

var trailingAnomalies = regexp.MustCompile(` ![a-z0-9_]+(,[a-z0-9_]+)*$`)

func (c *colorizer) line(l []byte) []byte {
	if c.dirCol < 0 {
		c.dirCol = bytes.Index(l, []byte("DIR"))
		if c.dirCol < 0 {
			c.dirCol = 1 << 30
		}
		return l
	}
	out := l
	if loc := trailingAnomalies.FindIndex(l); loc != nil {
		out = append(append(append(append([]byte(nil), l[:loc[0]+1]...), ColorAnomaly...), l[loc[0]+1:]...), ColorReset...)
	}
	if c.dirCol+3 <= len(l) {
		if d := string(l[c.dirCol : c.dirCol+3]); d == "c2s" || d == "s2c" {
			colored := append([]byte(nil), out[:c.dirCol]...)
			colored = append(colored, DirColor(d)...)
			colored = append(colored, d...)
			colored = append(colored, ColorReset...)
			out = append(colored, out[c.dirCol+3:]...)
		}
	}
	return out
}
