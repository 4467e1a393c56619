package text

import (
	"strconv"
	"time"
)

// Dur formats a duration briefly, as the conns view and lint write it:
// "31.2s", "450ms", "1.25ms", "80µs".
func Dur(d time.Duration) string {
	switch a := d.Abs(); {
	case a >= 100*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 0, 64) + "s"
	case a >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case a >= 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 0, 64) + "ms"
	case a >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
}
