package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// gen__tenant-reconnect's expect file (testdata/gen/tenant-reconnect.js):
// per tenant (VXLAN network identifier), the client's attempts as it saw
// them.
type tenantExpect struct {
	Client  string           `json:"client"`
	Server  string           `json:"server"`
	Host    string           `json:"host"`
	Path    string           `json:"path"`
	Tenants []tenantAttempts `json:"tenants"`
}

type tenantAttempts struct {
	VNI      int `json:"vni"`
	Attempts []struct {
		Start    float64 `json:"start"`
		Outcome  string  `json:"outcome"`
		Messages []struct {
			Dir    string `json:"dir"`
			Opcode int    `json:"opcode"`
			Len    int    `json:"len"`
			SHA256 string `json:"sha256"`
		} `json:"messages"`
	} `json:"attempts"`
}

func tenantCapture(t *testing.T) (string, tenantExpect) {
	t.Helper()
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__tenant-reconnect")
	var ex tenantExpect
	readExpect(t, base+".expect.json", &ex)
	if len(ex.Tenants) != 2 {
		t.Fatalf("expect.json: %d tenants, want 2", len(ex.Tenants))
	}
	return base + ".pcap", ex
}

type tenantGroup struct {
	Type     string `json:"type"`
	ClientIP string `json:"client_ip"`
	Server   string `json:"server"`
	Host     string `json:"host"`
	Path     string `json:"path"`
	Encap    string `json:"encap"`
	Attempts int    `json:"attempts"`
	Refused  int    `json:"refused"`
	Errors   int    `json:"errors"`
	Timeline []struct {
		Conn    int    `json:"conn"`
		Outcome string `json:"outcome"`
	} `json:"timeline"`
}

// TestRecordedTenantsReconnectGroups: gen__tenant-reconnect holds two
// node ws clients on 10.9.0.1 reconnecting to 10.9.0.2:8080, Host
// feed.example, /feed, one in VXLAN segment 10 (its server up
// throughout), one in segment 20 (its server down for 1.35 s). wsdump
// conns gives a reconnect group per tenant, encap vxlan:10 and vxlan:20,
// each with its client's attempts and outcomes in order (the generator's
// expect file), the messages of each connection those its client sent and
// received (SHA-256), and each connection in the segment tshark's
// vxlan.vni has for its tcp.stream. Before, the two were one group of 20
// attempts, a storm of "random" backoff.
func TestRecordedTenantsReconnectGroups(t *testing.T) {
	t.Parallel()
	capFile, ex := tenantCapture(t)
	for _, j := range []string{"1", "2"} {
		out, errs, code := runWsdump(t, nil, "conns", "-r", capFile, "-j", j, "--format", "jsonl")
		if code != 0 || errs != "" {
			t.Fatalf("-j %s: exit %d, stderr %q", j, code, errs)
		}
		var groups []tenantGroup
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var g tenantGroup
			if err := json.Unmarshal([]byte(line), &g); err != nil {
				t.Fatal(err)
			}
			if g.Type == "client_group" {
				groups = append(groups, g)
			}
		}
		if len(groups) != len(ex.Tenants) {
			t.Fatalf("-j %s: %d reconnect groups, want one per tenant (%d): %+v", j, len(groups), len(ex.Tenants), groups)
		}
		for _, te := range ex.Tenants {
			encap := "vxlan:" + strconv.Itoa(te.VNI)
			i := slices.IndexFunc(groups, func(g tenantGroup) bool { return g.Encap == encap })
			if i < 0 {
				t.Errorf("-j %s: no group in %s", j, encap)
				continue
			}
			g := groups[i]
			if g.ClientIP != ex.Client || g.Server != ex.Server || g.Host != ex.Host || g.Path != ex.Path {
				t.Errorf("-j %s: %s group %s %s %s%s, want %s %s %s%s", j, encap, g.ClientIP, g.Server, g.Host, g.Path, ex.Client, ex.Server, ex.Host, ex.Path)
			}
			var got, want []string
			refused, errors := 0, 0
			for _, a := range g.Timeline {
				got = append(got, a.Outcome)
			}
			for _, a := range te.Attempts {
				want = append(want, a.Outcome)
				refused += b2i(a.Outcome == "conn_refused")
				errors += b2i(a.Outcome == "error")
			}
			if !slices.Equal(got, want) || g.Attempts != len(want) || g.Refused != refused || g.Errors != errors {
				t.Errorf("-j %s: %s group: %d attempts %v, %d refused, %d errors; want %d %v, %d, %d", j, encap, g.Attempts, got, g.Refused, g.Errors, len(want), want, refused, errors)
			}
		}
	}

	// Each group's connections: their messages, and tshark's segment.
	out, errs, code := runShared(t, goldenArgs(capFile, "--format", "jsonl")...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	msgs := map[int][]string{}
	for _, r := range parseJSONL(t, out) {
		if r.Type == "message" {
			data, sum := r.dataSHA256(t)
			msgs[r.Conn] = append(msgs[r.Conn], r.Dir+" "+strconv.Itoa(r.Opcode)+" "+strconv.Itoa(len(data))+" "+sum)
		}
	}
	gout, _, _ := runWsdump(t, nil, "conns", "-r", capFile, "-j", "1", "--format", "jsonl")
	vniOf := map[int]string{} // wsdump's connection -> its group's VNI
	for _, line := range strings.Split(strings.TrimSpace(gout), "\n") {
		var g tenantGroup
		if json.Unmarshal([]byte(line), &g) != nil || g.Type != "client_group" {
			continue
		}
		i := slices.IndexFunc(ex.Tenants, func(x tenantAttempts) bool { return "vxlan:"+strconv.Itoa(x.VNI) == g.Encap })
		if i < 0 || len(g.Timeline) != len(ex.Tenants[i].Attempts) {
			t.Fatalf("group %q: not one of the tenants, or not their attempts", g.Encap)
		}
		te := ex.Tenants[i]
		for k, a := range g.Timeline {
			vniOf[a.Conn] = strconv.Itoa(te.VNI)
			var want []string
			for _, m := range te.Attempts[k].Messages {
				want = append(want, m.Dir+" "+strconv.Itoa(m.Opcode)+" "+strconv.Itoa(m.Len)+" "+m.SHA256)
			}
			// The client's log is in its order; wsdump's in capture order:
			// compare each direction's.
			for _, d := range []string{"c2s", "s2c"} {
				if g, w := byDir(msgs[a.Conn], d), byDir(want, d); !slices.Equal(g, w) {
					t.Errorf("vni %d attempt %d (conn %d) %s messages %v, want %v", te.VNI, k, a.Conn, d, g, w)
				}
			}
		}
	}

	tshark := needTshark(t)
	tout := tsharkOutput(t, tshark, capFile, "-r", capFile, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields", "-e", "tcp.stream", "-e", "vxlan.vni")
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(tout)), "\n") {
		f := strings.Split(line, "\t")
		n, err := strconv.Atoi(f[0])
		if err != nil || len(f) != 2 {
			t.Fatalf("tshark: %q", line)
		}
		if vniOf[n+1] != f[1] { // conn is tcp.stream + 1 (README)
			t.Errorf("tshark: tcp.stream %d in VNI %s; wsdump's conn %d is in the group of VNI %q", n, f[1], n+1, vniOf[n+1])
		}
		seen++
	}
	if seen != len(vniOf) {
		t.Errorf("tshark: %d SYNs, wsdump: %d attempts in groups", seen, len(vniOf))
	}
}

func byDir(ms []string, d string) []string {
	var out []string
	for _, m := range ms {
		if strings.HasPrefix(m, d+" ") {
			out = append(out, m)
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
