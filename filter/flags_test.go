package filter

import (
	"strings"
	"testing"
)

func TestFlagsSpec(t *testing.T) {
	for _, c := range []struct {
		fl         Flags
		connHealth bool
		err        string // "" : no error
	}{
		{Flags{Conns: []int{0}}, false, "--conn: connections are numbered from 1"},
		{Flags{Dirs: []string{"up"}}, false, `--dir must be c2s or s2c, not "up"`},
		{Flags{Opcodes: []string{"text,bogus"}}, false, "--opcode: "},
		{Flags{Since: "soon"}, false, "--since: "},
		{Flags{Grep: "("}, false, "--grep: "},
		{Flags{Expr: "conn.heartbeat.missed > 0"}, false, "-Y: conn.*"},
		{Flags{Expr: "conn.heartbeat.missed > 0"}, true, ""},
		{Flags{Dirs: []string{"c2s"}, Opcodes: []string{"text, 2"}, Conns: []int{3}}, false, ""},
	} {
		s, err := c.fl.Spec(false, c.connHealth)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%+v: %v", c.fl, err)
		case c.err != "" && (err == nil || !strings.HasPrefix(err.Error(), c.err)):
			t.Errorf("%+v: error %v, want %q...", c.fl, err, c.err)
		case c.err == "" && (len(s.Dirs) != len(c.fl.Dirs) || len(s.Conns) != len(c.fl.Conns)):
			t.Errorf("%+v: spec %+v", c.fl, s)
		}
	}
	if (&Flags{}).Set() || !(&Flags{Count: 1}).Set() {
		t.Error("Set")
	}
}
