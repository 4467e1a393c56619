package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// appConn is one connection of a jsonl run: its handshake and messages.
type appConn struct {
	hs   *wsparse.Handshake
	msgs []wsparse.Message
}

// readAppConns runs wsdump --format jsonl on file and returns its
// WebSocket connections in order of their first record.
func readAppConns(t *testing.T, file string) []*appConn {
	t.Helper()
	out, errs, code := runWsdump(t, nil, append([]string{"-r", file, "--format", "jsonl"}, keylogArgs(file)...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	byID := map[int]*appConn{}
	var conns []*appConn
	get := func(id int) *appConn {
		c := byID[id]
		if c == nil {
			c = &appConn{}
			byID[id] = c
			conns = append(conns, c)
		}
		return c
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r struct {
			Type             string `json:"type"`
			Conn             int    `json:"conn"`
			TS               string `json:"ts"`
			URI              string `json:"uri"`
			Status           int    `json:"status"`
			Subprotocol      string `json:"subprotocol"`
			OfferedProtocols string `json:"offered_protocols"`
			Dir              string `json:"dir"`
			Index            int    `json:"index"`
			Opcode           int    `json:"opcode"`
			Len              uint64 `json:"len"`
			Data             string `json:"data"`
			Transport        string `json:"transport"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		switch r.Type {
		case "handshake":
			get(r.Conn).hs = &wsparse.Handshake{URI: r.URI, Status: r.Status, Subprotocol: r.Subprotocol,
				OfferedProtocols: r.OfferedProtocols}
		case "message":
			if wsOnlyManifests[strings.TrimSuffix(filepath.Base(file), ".pcap")] && httpCarried(r.Transport) {
				continue
			}
			ts, err := time.Parse(time.RFC3339Nano, r.TS)
			if err != nil {
				t.Fatalf("message ts %q: %v", r.TS, err)
			}
			data, err := base64.StdEncoding.DecodeString(r.Data)
			if err != nil {
				t.Fatal(err)
			}
			dir := wsparse.ClientToServer
			if r.Dir == "s2c" {
				dir = wsparse.ServerToClient
			}
			c := get(r.Conn)
			c.msgs = append(c.msgs, wsparse.Message{Dir: dir, TS: ts, Opcode: wsparse.Opcode(r.Opcode), Frames: 1,
				Len: r.Len, Data: data, Index: r.Index})
		}
	}
	return conns
}

// appLine is the manifest form of an application message.
func appLine(a appproto.App) string {
	sum := sha256.Sum256(a.Body)
	return strings.Join([]string{a.Protocol, a.Type, a.Key, strconv.Itoa(len(a.Body)), hex.EncodeToString(sum[:])}, "\t")
}

// TestAppProtocolsMatchManifest decodes every WebSocket message of the
// gen__app-* captures with appproto and checks each application message
// against what the generator's libraries decoded (the .app.tsv manifest),
// in order, per direction.
func TestAppProtocolsMatchManifest(t *testing.T) {
	manifests, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "gen__app-*.app.tsv"))
	if len(manifests) == 0 {
		t.Skip("no gen__app-* captures")
	}
	for _, m := range manifests {
		base := strings.TrimSuffix(m, ".app.tsv")
		t.Run(filepath.Base(base), func(t *testing.T) {
			want := readAppManifest(t, m)
			got := map[string][]string{}
			var apps []appproto.App
			var sessions []*appproto.Session
			for _, c := range readAppConns(t, base+".pcap") {
				if len(c.msgs) == 0 {
					continue
				}
				s := appproto.New(c.hs, appproto.ModeAuto)
				sessions = append(sessions, s)
				for i := range c.msgs {
					for _, a := range s.Message(&c.msgs[i]) {
						got[c.msgs[i].Dir.String()] = append(got[c.msgs[i].Dir.String()], appLine(a))
						apps = append(apps, a)
						if len(a.Anomalies) > 0 {
							t.Errorf("%s %q: anomalies %v", c.msgs[i].Dir, a.Summary, a.Anomalies)
						}
						if a.Summary == "" {
							t.Errorf("%s %s %s: empty summary", c.msgs[i].Dir, a.Protocol, a.Type)
						}
					}
				}
			}
			compareByDir(t, "app message", got, want)
			checkAppExtras(t, filepath.Base(base), sessions, apps)
		})
	}
}

// checkAppExtras checks what the manifests do not list: negotiated
// keepalives, heartbeat flags and JSON-RPC latencies.
func checkAppExtras(t *testing.T, name string, sessions []*appproto.Session, apps []appproto.App) {
	t.Helper()
	if len(sessions) != 1 {
		t.Fatalf("%d WebSocket connections with messages, want 1", len(sessions))
	}
	ka := sessions[0].Keepalive()
	if ka.Source != "" && ka.At.IsZero() {
		t.Errorf("keepalive %+v: no time (the message that completed it: appproto's TestSTOMPKeepalive)", ka)
	}
	ka.At = time.Time{}
	second := time.Second
	var want appproto.Keepalive
	switch {
	case strings.Contains(name, "stomp-rabbitmq"):
		want = appproto.Keepalive{Source: "stomp heart-beat", Interval: [2]time.Duration{second, second}}
	case strings.Contains(name, "sockjs-stomp"):
		// client 1000,0 against RabbitMQ's reply: only the client beats
		want = appproto.Keepalive{Source: "stomp heart-beat", Interval: [2]time.Duration{second, 0}}
	case strings.Contains(name, "socketio"):
		want = appproto.Keepalive{Source: "engine.io open", Interval: [2]time.Duration{second, second}, Timeout: 3 * second}
	case strings.Contains(name, "mqtt"):
		want = appproto.Keepalive{Source: "mqtt keep alive", Interval: [2]time.Duration{second, 0}, Timeout: 1500 * time.Millisecond}
	}
	if ka != want && !strings.Contains(name, "socketio-upgrade") { // the open packet went over polling there
		t.Errorf("keepalive %+v, want %+v", ka, want)
	}
	beats := 0
	for _, a := range apps {
		if a.Heartbeat {
			beats++
		}
		if a.Protocol == appproto.JSONRPC && (a.Type == "response" || a.Type == "error") && a.Latency <= 0 {
			t.Errorf("%s: no latency", a.Summary)
		}
	}
	if beats == 0 && !strings.Contains(name, "jsonrpc") {
		t.Errorf("no heartbeat messages")
	}
}

// readAppManifest reads a .app.tsv: a header line, then
// dir protocol type key len sha256.
func readAppManifest(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 {
			continue // header
		}
		if len(f) != 6 {
			t.Fatalf("%s line %d: %q", path, i+1, line)
		}
		want[f[0]] = append(want[f[0]], strings.Join(f[1:], "\t"))
	}
	return want
}
