package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestEncapAgreesWithTshark: each connection's encapsulation ("encap" in
// the conns records) is what tshark decodes of the SYN that opened it:
// its layers (frame.protocols) and their identifiers (vlan.id, vxlan.vni,
// geneve.vni, gre.key, erspan.spanid, mpls.label), written as wsdump
// writes them (tsharkEncap). The recorded tunnels capture (the kernel's
// VXLAN over IPv4 and IPv6, GRE with a key, GRETAP, GENEVE, IP in IP,
// ip6gre, ERSPAN II) and two tenants on one 4-tuple in VLANs 10 and 20,
// VNIs 100 and 200, GRE keys 1 and 2; compared as sets of connections,
// as tshark 4.0 numbers tenants' streams otherwise (TestTenantsTshark).
func TestEncapAgreesWithTshark(t *testing.T) {
	t.Parallel()
	tshark := needTshark(t)
	capFile, _ := tunnelsCapture(t)
	files := []string{capFile}
	dir := t.TempDir()
	for _, ten := range synth.Tenants {
		in := func(n int) func([]byte) []byte { return func(f []byte) []byte { return ten.Wrap(n, f) } }
		path := filepath.Join(dir, strings.ReplaceAll(ten.Name, " ", "-")+".pcap")
		writePackets(t, path, synth.ByTime(synth.Wrapped(synth.TenantConv("A", 0x10000000, 0, 2), 0, in(1)),
			synth.Wrapped(synth.TenantConv("B", 0x70000000, 0, 2), 500*time.Microsecond, in(2))))
		files = append(files, path)
	}
	for _, file := range files {
		out := tsharkOutput(t, tshark, file, "-r", file, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields",
			"-e", "frame.protocols", "-e", "vlan.id", "-e", "vxlan.vni", "-e", "geneve.vni", "-e", "gre.key", "-e", "erspan.spanid", "-e", "mpls.label")
		var want []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			want = append(want, tsharkEncap(t, strings.Split(line, "\t")))
		}
		var stdout, stderr bytes.Buffer
		if code := Main([]string{"conns", "-r", file, "--format", "jsonl"}, nil, &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", file, code, stderr.String())
		}
		var got []string
		sc := bufio.NewScanner(&stdout)
		for sc.Scan() {
			var r struct{ Type, Encap string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if r.Type == "conn" {
				got = append(got, r.Encap)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if len(want) < 2 || !slices.Equal(got, want) {
			t.Errorf("%s: wsdump's connections' encap:\n%q\ntshark's SYNs:\n%q", filepath.Base(file), got, want)
		}
	}
}

// tsharkEncap writes a packet's encapsulation as wsdump does from
// tshark's fields: frame.protocols, then vlan.id, vxlan.vni, geneve.vni,
// gre.key, erspan.spanid and mpls.label (each field's occurrences
// comma-separated, taken in order as its layers come). VLAN tags are
// named before the first IP layer only (wsdump does not name what is
// inside a tunnel before its IP packet).
func tsharkEncap(t *testing.T, f []string) string {
	t.Helper()
	for len(f) < 7 {
		f = append(f, "")
	}
	vals := map[string][]string{}
	for i, name := range []string{"vlan", "vxlan", "geneve", "gre", "erspan", "mpls"} {
		if f[i+1] != "" {
			vals[name] = strings.Split(f[i+1], ",")
		}
	}
	next := func(name string) (string, bool) {
		v := vals[name]
		if len(v) == 0 {
			return "", false
		}
		vals[name] = v[1:]
		n, err := strconv.ParseUint(v[0], 0, 32)
		if err != nil {
			t.Fatalf("tshark: %s %q", name, v[0])
		}
		return strconv.FormatUint(n, 10), true
	}
	var words []string
	ip := false
	protos := strings.Split(f[0], ":")
	for i, p := range protos {
		switch p {
		case "vlan":
			if v, _ := next("vlan"); !ip {
				words = append(words, "vlan:"+v)
			}
		case "ip", "ipv6":
			if i > 0 && (protos[i-1] == "ip" || protos[i-1] == "ipv6") { // IP right in IP
				words = append(words, "ipip")
			}
			ip = true
		case "gre", "vxlan", "geneve", "erspan":
			if v, ok := next(p); ok {
				words = append(words, p+":"+v)
			} else {
				words = append(words, p)
			}
		case "mpls":
			var labels []string
			for {
				v, ok := next("mpls")
				if !ok {
					break
				}
				labels = append(labels, v)
			}
			words = append(words, "mpls:"+strings.Join(labels, "."))
		}
	}
	return strings.Join(words, "/")
}
