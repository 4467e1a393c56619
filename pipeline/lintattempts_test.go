package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/internal/synth"
)

// neverTwoServers writes gen__reconnect-never (the seed's loop refused 10
// times by 127.0.0.1:47367, from 127.0.0.1) with a second client's loop
// beside it, synthetic: 10.0.0.1 refused 4 times by 10.0.0.2:8080, 3 s
// apart from 1 s after the capture's start. Two groups of bare connects,
// each WS709.
func neverTwoServers(t *testing.T) string {
	t.Helper()
	return withOtherLoop(t, "gen__reconnect-never", 20)
}

// withOtherLoop writes the committed capture name (n packets) with the
// synthetic loop of neverTwoServers beside it (synth.WithRefusedLoop):
// 10.0.0.1 refused 4 times by 10.0.0.2:8080.
func withOtherLoop(t *testing.T, name string, n int) string {
	t.Helper()
	pkts, err := synth.ReadPcap("../testdata/pcaps/" + name + ".pcap")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != n {
		t.Fatalf("%s: %d packets, want %d", name, len(pkts), n)
	}
	file := filepath.Join(t.TempDir(), name+"-other.pcap")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WritePcap(out, 65535, synth.WithRefusedLoop(pkts)...); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return file
}

// servers names the servers of the WS709 findings, in order.
func servers(fs []lintFinding) string {
	var s []string
	for _, f := range fs {
		addr, _, _ := strings.Cut(f.Detail, " ")
		s = append(s, addr)
	}
	return strings.Join(s, ",")
}

// TestLintFilterAttempts: the seed's loop against a server that was never
// there (gen__reconnect-never, the real capture) and another client's
// loop against another server: every filter form selects the attempts it
// matches, by their addresses (--host), numbers (--conn), times
// (--since, --until) and the fields an attempt has (-Y), and WS709 is
// said of the groups of the attempts it selects, of none of the others.
// Before, any filter left both groups unlinted (refused connects reached
// no filter), so `lint --host SERVER` passed a CI job whose server never
// answered. The record selectors (--dir, a -Y on frames' fields) and -c
// select frames, not connections: every group is linted, as every
// connection's end is. -j 1 and -j 2 the same.
func TestLintFilterAttempts(t *testing.T) {
	file := neverTwoServers(t)
	const real, other, both = "127.0.0.1:47367", "10.0.0.2:8080", "127.0.0.1:47367,10.0.0.2:8080"
	_, all := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 1, "WS709")
	if servers(all) != both {
		t.Fatalf("unfiltered: %+v, want WS709 of %s", all, both)
	}
	realConn, otherConn := all[0].Conn, all[1].Conn
	for _, c := range []struct {
		fl   filter.Flags
		want string
	}{
		{filter.Flags{Hosts: []string{"127.0.0.1"}}, real},
		{filter.Flags{Hosts: []string{"10.0.0.2"}}, other},
		{filter.Flags{Hosts: []string{"10.0.0.1"}}, other}, // the client's address
		{filter.Flags{Hosts: []string{"10.0.0.9"}}, ""},
		{filter.Flags{Hosts: []string{"0.0.0.2"}}, ""}, // an address matches exactly, never as a substring
		{filter.Flags{Hosts: []string{"127.0.0.1:*"}}, real},
		{filter.Flags{Hosts: []string{"*:8080"}}, other},
		{filter.Flags{Hosts: []string{"*:80"}}, ""},
		// A glob without a port matches the address with one, as it
		// matches a Host header with one.
		{filter.Flags{Hosts: []string{"10.0.0.?"}}, other},
		{filter.Flags{Hosts: []string{"127.0.0.[0-9]"}}, real},
		{filter.Flags{Hosts: []string{"10.0.0.[3-9]"}}, ""},
		{filter.Flags{Hosts: []string{"127.0.0.1:47367"}}, real},
		{filter.Flags{Hosts: []string{"127.0.0.1:47368"}}, ""},
		{filter.Flags{Hosts: []string{"10.0.0.2", "127.0.0.1"}}, both},
		{filter.Flags{Conns: []int{realConn}}, real},
		{filter.Flags{Conns: []int{otherConn}}, other},
		{filter.Flags{Conns: []int{999}}, ""},
		{filter.Flags{Paths: []string{"/"}}, ""}, // a bare connect has no path
		{filter.Flags{Until: "0.5"}, real},
		{filter.Flags{Since: "20"}, real},
		{filter.Flags{Since: "100"}, ""},
		{filter.Flags{Expr: `server == "10.0.0.2:8080"`}, other},
		{filter.Flags{Expr: `server endsWith ":47367"`}, real},
		{filter.Flags{Expr: "conn == " + fmt.Sprint(otherConn)}, other},
		{filter.Flags{Expr: `type == "conn" && client startsWith "127."`}, real},
		{filter.Flags{Expr: `type == "frame"`}, ""},
		{filter.Flags{Expr: `vni == 20`}, ""},
		{filter.Flags{Expr: `time > 100`}, ""},
		{filter.Flags{Expr: `host == nil && server startsWith "10."`}, other},
		{filter.Flags{Expr: `dir == "c2s"`}, both}, // frames' field: selects frames, not attempts
		{filter.Flags{Dirs: []string{"s2c"}}, both},
		{filter.Flags{Count: 5}, both},
	} {
		for _, jobs := range []int{1, 2} {
			_, got := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags(), Filter: c.fl}, jobs, "WS709")
			if servers(got) != c.want {
				t.Errorf("-j %d %+v: WS709 of %q, want %q", jobs, c.fl, servers(got), c.want)
			}
		}
	}
}

// TestLintFilterAttemptsRecovered: gen__reconnect-dead (its WebSocket, conn
// 2, ends at 12.4 s, then 9 refused tries 3 s apart): a filter that selects
// only the refused tries, by number or time, lints their group (WS708),
// which before was linted only when the filter passed the WebSocket.
func TestLintFilterAttemptsRecovered(t *testing.T) {
	file := "../testdata/pcaps/gen__reconnect-dead.pcap"
	_, all := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 1, "WS708")
	if len(all) != 1 {
		t.Fatalf("unfiltered: %+v, want one WS708", all)
	}
	for _, c := range []struct {
		fl    filter.Flags
		fires bool
	}{
		{filter.Flags{Conns: []int{all[0].Conn + 1}}, true},
		{filter.Flags{Conns: []int{999}}, false},
		{filter.Flags{Since: "20"}, true},
		{filter.Flags{Since: "100"}, false},
		{filter.Flags{Hosts: []string{"*:47365"}}, true},
		{filter.Flags{Hosts: []string{"*:47366"}}, false},
	} {
		for _, jobs := range []int{1, 2} {
			_, got := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags(), Filter: c.fl}, jobs, "WS708")
			want := all
			if !c.fires {
				want = nil
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("-j %d %+v: %+v, want %+v", jobs, c.fl, got, want)
			}
		}
	}
}

// TestLintFilterExprConns: -Y on the fields a connection has selects a
// WebSocket connection as it selects an attempt that never reached
// WebSocket, by its End: gen__reconnect-dead (its WebSocket, conn 2,
// ended by FIN alone, WS302, then 9 refused tries, WS708, of
// 127.0.0.1:47365) beside another client's loop refused by
// 10.0.0.2:8080 (WS709). Before, such a -Y selected the attempts of the
// bare group alone: -Y 'server == "10.0.0.2:8080"' said WS302 and WS708
// of the other server too, and -Y 'conn == 999' said them, its WS709
// not. An expression on frames' fields selects every connection, as
// --dir does. -j 1 and -j 2 the same.
func TestLintFilterExprConns(t *testing.T) {
	file := withOtherLoop(t, "gen__reconnect-dead", 60)
	rules := []string{"WS302", "WS708", "WS709"}
	_, all := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 1, rules...)
	if fmt.Sprint(ruleList(all)) != "[WS302 WS709 WS708]" {
		t.Fatalf("unfiltered: %+v", all)
	}
	for _, c := range []struct {
		expr, want string
	}{
		{`server == "10.0.0.2:8080"`, "[WS709]"},
		{`server == "127.0.0.1:47365"`, "[WS302 WS708]"},
		{`conn == 999`, "[]"},
		{`host == "127.0.0.1:47365"`, "[WS302 WS708]"},
		{`client startsWith "10."`, "[WS709]"},
		{`dir == "c2s"`, "[WS302 WS709 WS708]"},
		{`server == "10.0.0.2:8080" || opcode == 1`, "[WS302 WS709 WS708]"},
	} {
		for _, jobs := range []int{1, 2} {
			_, got := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags(), Filter: filter.Flags{Expr: c.expr}}, jobs, rules...)
			if fmt.Sprint(ruleList(got)) != c.want {
				t.Errorf("-j %d -Y %s: %v, want %s", jobs, c.expr, ruleList(got), c.want)
			}
		}
	}
}

func ruleList(fs []lintFinding) []string {
	s := []string{}
	for _, f := range fs {
		s = append(s, f.Rule)
	}
	return s
}
