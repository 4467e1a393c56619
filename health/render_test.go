package health

import "time"

// A Conn's texts (its heartbeat glance, how it closed, a duration) are
// rendered by report, which imports health, so health's own tests cannot
// import it. render_ext_test.go (package health_test, which can) sets
// these to report's renderers before any test runs.
var (
	Glance    func(*Conn) string
	CloseText func(*Conn) string
	Dur       func(time.Duration) string
)
