package filter

import (
	"strings"
	"testing"
)

// FuzzCompileExpr: any -Y text compiles or fails with an error, never a
// panic; an expression that compiles selects the same records from the
// full environments as from those its own filter makes, which hold only
// the fields it reads (Spec.Expr: the lazy environments the views use).
func FuzzCompileExpr(f *testing.F) {
	for _, s := range []string{
		`opcode == 2 && len > 64 * 1024`, `close_code != 1000`, `close_code == nil && type == "frame"`,
		`anomalies != []`, `"server_frame_masked" in anomalies`, `app.type == "ERROR"`,
		`app.destination startsWith "/topic"`, `conn.heartbeat.missed > 0`, `conn == 3 && type == "handshake"`,
		`text matches "^ERROR\n"`, `dir in ["c2s"]`, `!(len > 100)`, `status == 101`, `time >= 3 && time < 4.5`,
		`masked && opcode_name == "close"`, `index > 4 or (fin and not masked and len < 20)`,
		`$env.len > 3`, `conn.ping.unanswered == 0 || uri contains "stomp"`, `len(anomalies) > 0`,
		`websocket.opcode == 1`, `dir eq "c2s"`, `text ~ "err"`, `app.fields.type == "x"`,
	} {
		f.Add(s)
	}
	kinds := []string{"big", "close", "conn", "handshake", "stomp", "text"}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 512 || strings.Contains(src, "..") {
			return // ranges (1..1e9) ask for work without bound: the user's own -Y
		}
		x, err := CompileExpr(src)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		full, lazy := exprRecords(t, Spec{}), exprRecords(t, Spec{Expr: x})
		for _, k := range kinds {
			if a, b := x.Match(full[k]), x.Match(lazy[k]); a != b {
				t.Errorf("%q on the %s record: %v with every field, %v with the fields it reads (%d)", src, k, a, b, len(lazy[k]))
			}
		}
	})
}
