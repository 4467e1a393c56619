package filter

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/wsdump/wsdump/wsparse"
)

// Flags are the filters as a command line gives them (--conn, --dir,
// --opcode, --host, --path, --since, --until, --grep, -c, -Y).
type Flags struct {
	Conns   []int
	Dirs    []string
	Opcodes []string
	Hosts   []string
	Paths   []string
	Since   string
	Until   string
	Grep    string
	Count   int
	Expr    string // -Y
}

// Set reports whether any filter is given.
func (fl *Flags) Set() bool {
	return len(fl.Conns) > 0 || len(fl.Dirs) > 0 || len(fl.Opcodes) > 0 || len(fl.Hosts) > 0 ||
		len(fl.Paths) > 0 || fl.Since != "" || fl.Until != "" || fl.Grep != "" || fl.Count != 0 || fl.Expr != ""
}

// Spec checks the filters and turns them into a Spec; -c counts messages
// with messages. connHealth: the view reads -Y conn.* (the main view by a
// first pass, conns); the others refuse it rather than select nothing.
// An error names the flag at fault.
func (fl *Flags) Spec(messages, connHealth bool) (Spec, error) {
	s := Spec{Conns: fl.Conns, Hosts: fl.Hosts, Paths: fl.Paths, Count: fl.Count, CountMessages: messages}
	for _, c := range fl.Conns {
		if c < 1 {
			return s, errors.New("--conn: connections are numbered from 1")
		}
	}
	for _, d := range fl.Dirs {
		switch d {
		case "c2s":
			s.Dirs = append(s.Dirs, wsparse.ClientToServer)
		case "s2c":
			s.Dirs = append(s.Dirs, wsparse.ServerToClient)
		default:
			return s, fmt.Errorf("--dir must be c2s or s2c, not %q", d)
		}
	}
	for _, o := range fl.Opcodes {
		for _, part := range strings.Split(o, ",") {
			op, err := ParseOpcode(strings.TrimSpace(part))
			if err != nil {
				return s, fmt.Errorf("--opcode: %v", err)
			}
			s.Opcodes = append(s.Opcodes, op)
		}
	}
	var err error
	if s.Since, err = ParseBound(fl.Since); err != nil {
		return s, fmt.Errorf("--since: %v", err)
	}
	if s.Until, err = ParseBound(fl.Until); err != nil {
		return s, fmt.Errorf("--until: %v", err)
	}
	if fl.Grep != "" {
		if s.Grep, err = regexp.Compile(fl.Grep); err != nil {
			return s, fmt.Errorf("--grep: %v", err)
		}
	}
	if fl.Expr != "" {
		if s.Expr, err = CompileExpr(fl.Expr); err != nil {
			return s, fmt.Errorf("-Y: %v", err)
		}
		if s.Expr.UsesConn && !connHealth {
			return s, errors.New("-Y: conn.* (the connection's health) is read by the main view and conns; here select by connection with --conn (numbers from: wsdump conns -r F -Y '...' -T fields -e conn)")
		}
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s, nil
}
