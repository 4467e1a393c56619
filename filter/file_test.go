package filter

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// TestFileField: file is the name of the input a record's connection was
// first seen in (Spec.Files by wsparse.Conn.Input), as an expression and
// -e read it; absent when the inputs are not named (standard input) or
// the number is past them.
func TestFileField(t *testing.T) {
	x, err := CompileExpr(`file contains "host-b"`)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"caps/host-a_1.pcap", "caps/host-b_1.pcap"}
	for _, tc := range []struct {
		files []string
		input int
		want  any
		match bool
	}{
		{files, 0, "caps/host-a_1.pcap", false},
		{files, 1, "caps/host-b_1.pcap", true},
		{files, 2, nil, false},
		{nil, 0, nil, false},
	} {
		c := wsparse.NewView(1, [2]netip.AddrPort{})
		c.SetInput(tc.input)
		f := New(nil, Spec{Expr: x, Files: tc.files})
		env := f.FrameEnv(c, &wsparse.Frame{}, nil)
		if env["file"] != tc.want || x.Match(env) != tc.match {
			t.Errorf("input %d of %v: file %v (match %v), want %v (%v)", tc.input, tc.files, env["file"], x.Match(env), tc.want, tc.match)
		}
	}
}

// TestConnEnvFile: the conns view's environment (ConnEnv) has the same
// file, by health.Conn.Input and the report's files: -Y 'file contains'
// and -T fields -e file of wsdump conns (before, absent: an empty column).
func TestConnEnvFile(t *testing.T) {
	x, err := CompileExpr(`file contains "host-b"`)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"caps/host-a_1.pcap", "caps/host-b_1.pcap"}
	for _, tc := range []struct {
		files []string
		input int32
		want  any
		match bool
	}{
		{files, 0, "caps/host-a_1.pcap", false},
		{files, 1, "caps/host-b_1.pcap", true},
		{files, 2, nil, false},
		{nil, 0, nil, false},
	} {
		env := ConnEnv(&health.Conn{ID: 1, Input: tc.input}, time.Time{}, tc.files)
		if v, ok := env["file"]; v != tc.want || ok != (tc.want != nil) || x.Match(env) != tc.match {
			t.Errorf("input %d of %v: file %v (match %v), want %v (%v)", tc.input, tc.files, v, x.Match(env), tc.want, tc.match)
		}
	}
}
